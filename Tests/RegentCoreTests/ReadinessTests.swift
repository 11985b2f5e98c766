import Foundation
import RegentCore
import Testing

/// `/readyz`'s decision, check by check, from facts at a fixed time.
struct ReadinessTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func facts(
        answers: Bool = true, schema: Int? = 14, oldestDue: TimeInterval? = nil, hears: Bool = true
    ) -> ReadinessFacts {
        ReadinessFacts(
            now: now, databaseAnswers: answers, schemaVersion: schema, expectedSchemaVersion: 14,
            oldestDueJob: oldestDue.map { now - $0 }, hearsChanges: hears)
    }

    func failing(_ readiness: Readiness) -> [Readiness.Check] {
        Readiness.Check.allCases.filter { readiness.results[$0]?.ok == false }
    }

    @Test func readyWhenEveryCheckPasses() {
        let readiness = Readiness.assess(facts(oldestDue: 2), schedulerBound: 60)
        #expect(readiness.isReady)
        #expect(readiness.results[.migrations]?.detail == "ok (schema 14)")
        #expect(readiness.results[.scheduler]?.detail == "ok (2.0 s behind)")
        #expect(Set(readiness.results.keys) == Set(Readiness.Check.allCases))
    }

    @Test func aSchemaOtherThanThisBinarysIsNotReady() {
        let newer = Readiness.assess(facts(schema: 15), schedulerBound: 60)
        #expect(failing(newer) == [.migrations])
        #expect(newer.results[.migrations]?.detail == "the database is at schema 15, newer than this binary's 14")
        #expect(failing(Readiness.assess(facts(schema: 13), schedulerBound: 60)) == [.migrations])
    }

    @Test func aSchedulerBehindItsBoundIsNotReady() {
        #expect(Readiness.assess(facts(oldestDue: 60), schedulerBound: 60).isReady)
        let behind = Readiness.assess(facts(oldestDue: 61), schedulerBound: 60)
        #expect(failing(behind) == [.scheduler])
        #expect(behind.results[.scheduler]?.detail == "a job due 61.0 s ago has not run (bound 60.0 s)")
    }

    @Test func aReplicaDeafToTheOthersIsNotReady() {
        #expect(failing(Readiness.assess(facts(hears: false), schedulerBound: 60)) == [.changeFeed])
    }

    @Test func aDatabaseThatDoesNotAnswerLeavesTheRestUnknown() {
        let down = Readiness.assess(facts(answers: false, schema: nil), schedulerBound: 60)
        #expect(failing(down) == [.database, .migrations, .scheduler])
        #expect(down.results[.scheduler]?.detail == "unknown: the database does not answer")
    }
}
