import Foundation
import RegentCore
import RegentEngine
import RegentStore
import RegentTestSupport
import Testing

struct SchedulerTests {
    /// The scheduler's next wake is the earliest due job, capped by the idle limit, and a job added
    /// by a use case moves it earlier.
    @Test func nextWakeFollowsJobs() async throws {
        try await withHarness { h in
            let idle = h.engine.configuration.maximumIdle
            #expect(try await h.engine.provisioning.nextWake() == t0.addingTimeInterval(idle))
            let alice = try await h.user("alice")
            let dba = try await h.role("dba") { $0.requireMfa = false }
            try await h.assign(alice.principalId, dba)
            _ = try await h.activate(alice, dba, duration: .minutes(10))
            #expect(try await h.engine.provisioning.nextWake() == t0)  // the grant job is due now
            try await h.engine.provisioning.runDueJobs()
            h.clock.advance(by: 590)
            #expect(try await h.engine.provisioning.nextWake() == t0 + 600)
        }
    }
}
