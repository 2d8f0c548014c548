// At --max-callers, a caller whose worker has no idle or lingering caller to close asks the other workers for room.
import EventLoop


/// Another worker, reached only through its `waker` (its sessions belong to its thread).
struct PeerWorker {
    unowned let worker: Worker
}

extension Worker {
    /// The most callers one worker keeps waiting while the others look for room; past it a caller is refused at
    /// once (a flood at the limit costs a bounded number of descriptors, budgeted in `max-callers auto`, and of
    /// cross-thread jobs).
    static let awaitingRoomLimit = DescriptorBudget.awaitingRoomPerWorker

    /// The limit is counted over all workers (`CallerGauge`), but a worker can close only its own sessions: with
    /// `--workers 2`, a caller the kernel hashed to a worker whose callers are all mid-request was refused while the
    /// other worker held an idle one. The caller is kept (its descriptor, nothing read) while each other worker in
    /// turn tries `reclaimSlot` on its own loop; a place free after any answer lets it in (whoever freed it), and if
    /// none is after the last it gets the 503 it would have had.
    func findRoomElsewhere(_ fd: CInt) {
        guard !peers.isEmpty, !isShuttingDown, awaitingRoom.count < Self.awaitingRoomLimit else { return refuse(fd) }
        awaitingRoom.append(fd)
        askForRoom(fd, peer: 0)
    }

    /// Asks `peers[peer]` to close one of its callers; its answer comes back on this loop.
    private func askForRoom(_ fd: CInt, peer: Int) {
        guard peer < peers.count else { return roomAnswered(fd, freed: false, next: peer) }
        let other = peers[peer].worker
        let home = PeerWorker(worker: self)
        other.waker.post {
            let freed = !other.isShuttingDown && other.reclaimSlot()
            home.worker.waker.post { home.worker.roomAnswered(fd, freed: freed, next: peer + 1) }
        }
    }

    /// A peer closed a caller (`freed`) or could not. Either way a place free now is taken, whoever freed it (a
    /// caller of any worker may have ended during the round trip: refusing then was a 503 with room). A place freed
    /// may still be taken by another worker's accept first: then this caller is refused, as any caller past the limit.
    private func roomAnswered(_ fd: CInt, freed: Bool, next: Int) {
        // Gone when the drain began meanwhile (it was refused then).
        guard let i = awaitingRoom.firstIndex(of: fd) else { return }
        let admitted = !isShuttingDown && callers.take(below: settings.maxCallers)
        if !admitted && !freed && next < peers.count && !isShuttingDown { return askForRoom(fd, peer: next) }
        awaitingRoom.remove(at: i)
        if admitted { admit(fd) } else { refuse(fd) }
    }

    /// Refuses every caller still waiting for room (a drain or teardown has begun).
    func refuseAwaitingRoom() {
        let waiting = awaitingRoom
        awaitingRoom = []
        for fd in waiting { refuse(fd) }
    }
}
