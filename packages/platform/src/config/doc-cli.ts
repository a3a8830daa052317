import { configTable } from "./load.ts";

// Prints the configuration table that README.md embeds.
console.log(configTable());
