import Foundation
import Mote
import Testing

/// UNSUBSCRIBEs the broker never answers, and the ack timeout: they hold the C client's
/// request slots (4) like timed-out SUBSCRIBEs do, and must not leave a later subscribe()
/// waiting for good.
@Suite(.serialized)
struct UnsubscribeTimeoutTests {
    static func client(_ broker: ScriptedBroker, _ name: String) -> MQTTClient {
        broker.client(name, ackTimeout: .seconds(1))
    }

    /// Subscribe to `filter` and have the broker grant it.
    static func granted(_ client: MQTTClient, _ broker: ScriptedBroker, _ filter: String) async throws -> MQTTSubscription {
        let task = Task { try await client.subscribe(to: filter, qos: .atLeastOnce) }
        let s = try await broker.nextSubscribe()
        #expect(s.filter == filter)
        broker.suback(s.packetID, 1)
        return try await task.value
    }

    /// The next SUBSCRIBE, passing over UNSUBSCRIBEs.
    static func nextSubscribe(_ broker: ScriptedBroker) async throws -> ScriptedBroker.Subscribe {
        while true {
            let e = try await broker.next()
            if case .subscribe(let id, let filter, let qos) = e {
                return ScriptedBroker.Subscribe(packetID: id, filter: filter, qos: qos)
            }
            guard case .unsubscribe = e else { throw BrokerError.setup("expected a SUBSCRIBE, got \(e)") }
        }
    }

    /// After the blocked subscribe() failed: the late UNSUBACKs free the slots and change
    /// nothing else; a new subscribe() goes out and is granted.
    static func lateUnsubacksAreHarmless(_ client: MQTTClient, _ broker: ScriptedBroker) async throws {
        broker.ignoresUnsubscribes = false
        broker.answerUnsubscribes()
        // Taken: the filters leave the client's list (the ones unsubscribed since are answered
        // at once), and the slots are free again.
        #expect(await T.eventually { client.subscribedFilters.isEmpty })
        let task = Task { try await client.subscribe(to: "after", qos: .atLeastOnce) }
        let s = try await nextSubscribe(broker)
        #expect(s.filter == "after")
        broker.suback(s.packetID, 1)
        let sub = try await task.value
        #expect(await T.eventually { client.subscribedFilters == ["after"] })
        sub.cancel()
    }

    /// Four granted subscriptions end; the broker answers none of their UNSUBSCRIBEs. A
    /// subscribe() behind them fails with .timeout instead of waiting for a slot.
    @Test func subscribeBehindUnansweredUnsubscribesTimesOut() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "unsub-jam")
            try await client.connect()
            #expect(try await broker.next() == .connected)
            broker.ignoresUnsubscribes = true
            for i in 0..<4 {
                let sub = try await Self.granted(client, broker, "u/\(i)")
                sub.cancel()
                #expect(try await broker.next() == .unsubscribe(filter: "u/\(i)"))
            }
            await #expect(throws: MQTTError.timeout) {
                _ = try await client.subscribe(to: "u/blocked", qos: .atLeastOnce)
            }
            try await Self.lateUnsubacksAreHarmless(client, broker)
            try await client.disconnect()
        }
    }

    /// Two unanswered UNSUBSCRIBEs and two SUBSCRIBEs that time out hold all four slots: a
    /// subscribe() behind them fails with .timeout too.
    @Test func subscribeBehindMixedTimedOutRequestsTimesOut() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "mixed-jam")
            try await client.connect()
            #expect(try await broker.next() == .connected)
            broker.ignoresUnsubscribes = true
            for i in 0..<2 {
                let sub = try await Self.granted(client, broker, "m/\(i)")
                sub.cancel()
                #expect(try await broker.next() == .unsubscribe(filter: "m/\(i)"))
            }
            var unanswered: [Task<Void, any Error>] = []
            for i in 2..<4 {
                unanswered.append(Task { _ = try await client.subscribe(to: "m/\(i)", qos: .atLeastOnce) })
                _ = try await broker.nextSubscribe() // never answered
            }
            for task in unanswered {
                await #expect(throws: MQTTError.timeout) { try await task.value }
            }
            await #expect(throws: MQTTError.timeout) {
                _ = try await client.subscribe(to: "m/blocked", qos: .atLeastOnce)
            }
            try await Self.lateUnsubacksAreHarmless(client, broker)
            try await client.disconnect()
        }
    }
}
