import Foundation
import Mote
import Testing

/// Review of the shared-filter QoS upgrade and the ack timeout, against the scripted broker.
@Suite(.serialized)
struct SubscriptionReviewTests {
    static func client(_ broker: ScriptedBroker, _ name: String, _ version: MQTTProtocolVersion = .v5,
                       ackTimeout: Duration?, reconnect: Bool = false) -> MQTTClient {
        broker.client(name, version, ackTimeout: ackTimeout, reconnect: reconnect)
    }

    /// More SUBSCRIBEs than the C client can have awaiting their SUBACKs (4), none ever
    /// answered: every subscribe() call ends, also the ones queued behind the timed-out ones.
    @Test func subscribesBehindTimedOutOnesDoNotHang() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "jam", ackTimeout: .seconds(1))
            try await client.connect()
            #expect(try await broker.next() == .connected)
            var tasks: [Task<Void, any Error>] = []
            for i in 0..<6 {
                tasks.append(Task { _ = try await client.subscribe(to: "jam/\(i)", qos: .atLeastOnce) })
            }
            for task in tasks {
                await #expect(throws: MQTTError.timeout) { try await task.value }
            }
            try await client.disconnect()
        }
    }

    /// A group fails (its first SUBACK refuses) while its upgrade's SUBSCRIBE is unanswered,
    /// and the connection drops before that SUBACK; the broker resumes the session, which may
    /// hold what that SUBSCRIBE asked for: the client unsubscribes the filter after the
    /// reconnect.
    @Test func failedGroupIsUnsubscribedAfterResumingTheSession() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            var c = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: T.id("orphan"))
            c.keepAlive = .seconds(30)
            c.cleanStart = false
            c.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50))
            let client = MQTTClient(configuration: c)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "orph/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            let high = Task { try await client.subscribe(to: "orph/x", qos: .atLeastOnce) }
            _ = try await broker.nextSubscribe() // never answered
            broker.suback(first.packetID, 0x80)
            for task in [low, high] {
                await #expect(throws: MQTTError.self) { _ = try await task.value }
            }
            broker.resumesSession = true
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            #expect(try await broker.next() == .unsubscribe(filter: "orph/x"))
            #expect(await T.eventually { client.subscribedFilters.isEmpty })
            try await client.disconnect()
        }
    }
}
