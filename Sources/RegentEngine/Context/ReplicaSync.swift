import Foundation
import Logging
import RegentConnectors
import RegentCore
import RegentStore
public import ServiceLifecycle

/// Keeps what this replica holds in memory — the check index, the session cache, the readers
/// cache — in step with what other replicas commit to a shared database: each change they publish
/// is read back and applied as it arrives, and everything is reloaded every `resyncInterval` (and
/// after the listening connection was lost), which heals a notification missed for any reason.
/// On SQLite there are no other replicas and it has nothing to do.
public struct ReplicaSync: Service {
    let engine: Engine

    public init(engine: Engine) { self.engine = engine }

    public func run() async throws {
        guard engine.store.isShared else {
            // A service group treats a service that returns early as failed: wait for the end.
            try? await gracefulShutdown()
            return
        }
        let engine = engine
        await cancelWhenGracefulShutdown {
            await engine.started.wait()
            // Stopped before the engine started (a refused start): nothing to keep in step.
            guard !Task.isCancelled else { return }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await change in engine.store.changes() {
                        await engine.absorbLogged(change)
                    }
                }
                group.addTask {
                    let interval = engine.configuration.resyncInterval
                    while (try? await Task.sleep(for: .seconds(interval))) != nil {
                        await engine.absorbLogged(.everythingChanged)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }
}

extension Engine {
    func absorbLogged(_ change: StoreChanges) async {
        do {
            try await absorb(change)
        } catch {
            // The next change or the periodic reload brings it back.
            logger.warning("cannot apply another replica's change", metadata: ["error": "\(error)"])
        }
    }

    /// Applies a change another replica committed to this replica's memory.
    func absorb(_ change: StoreChanges) async throws {
        if change.everything || change.sshRevocations { try await sshAuthority?.writeRevocationList() }
        if change.everything {
            try await reloadIndex()
            sessionCache.invalidateAll()
            names.forgetReaders()
            return
        }
        let (assignments, graph, principals) = try await store.transaction(.read) { tx in
            var assignments: [Assignment] = []
            for id in change.assignments {
                if let assignment = try await tx.assignment(id: id) { assignments.append(assignment) }
            }
            var principals: [Principal] = []
            for id in change.principals {
                if let principal = try await tx.principal(id: id) { principals.append(principal) }
            }
            return (assignments, change.memberships ? try await tx.membershipGraph() : nil, principals)
        }
        for tokenHash in change.sessions { sessionCache.invalidate(tokenHash) }
        for principal in principals { index.setEnabled(principal.id, principal.isEnabled) }
        if let graph { index.updateGraph(graph) }
        index.update(assignments)
        if !assignments.isEmpty || graph != nil || !principals.isEmpty { names.forgetReaders() }
    }
}
