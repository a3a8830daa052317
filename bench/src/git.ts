import { run } from "./processes.ts";

/**
 * The commit a tree is on, with `+dirty` when tracked files have changes (a run of uncommitted
 * code must not pass for one of its commit); undefined outside a git checkout.
 */
export async function gitCommit(root: string): Promise<string | undefined> {
  try {
    const sha = (await run(["git", "-C", root, "rev-parse", "--short=7", "HEAD"])).trim();
    const changed = (await run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"])).trim() !== "";
    return changed ? `${sha}+dirty` : sha;
  } catch {
    return undefined;
  }
}
