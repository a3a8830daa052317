import { dbosPeer } from "./dbos/peer.ts";
import { graphileWorkerPeer } from "./graphile-worker/peer.ts";
import type { Peer, PeerName } from "./peer.ts";
import { restatePeer } from "./restate/peer.ts";

const FACTORIES: Record<PeerName, () => Peer> = {
  restate: restatePeer,
  dbos: dbosPeer,
  "graphile-worker": graphileWorkerPeer,
};

export function createPeer(name: PeerName): Peer {
  return FACTORIES[name]();
}
