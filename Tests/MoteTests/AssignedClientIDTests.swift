import Foundation
import Mote
import Testing

/// A client that connects with an empty client identifier: a v5 broker assigns one, and the
/// client connects again under it while the session it asked to keep may still exist; in
/// 3.1.1 no identifier is ever assigned, so a persistent session needs one of the client's.
@Suite(.serialized)
struct AssignedClientIDTests {
    /// A v5 client with an empty identifier whose session outlives the connection, against
    /// the scripted broker (reconnects after 50 ms).
    static func emptyIDClient(_ broker: ScriptedBroker, expiry: UInt32, cleanStart: Bool = false,
                              keepAlive: Duration = .seconds(30)) -> MQTTClient {
        var c = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "", protocolVersion: .v5)
        c.keepAlive = keepAlive
        c.cleanStart = cleanStart
        c.sessionExpiryInterval = expiry
        c.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), jitter: 0)
        return MQTTClient(configuration: c)
    }

    /// The automatic reconnect and a connect() after disconnect() both send the identifier
    /// the broker assigned, not the empty one (which would start a new session under a new
    /// identifier every time).
    @Test func reconnectUsesTheAssignedClientID() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        broker.assignsClientID = "assigned-by-broker-1"
        try await T.within(30) {
            let client = Self.emptyIDClient(broker, expiry: 600)
            let info = try await client.connect()
            #expect(info.assignedClientID == "assigned-by-broker-1")
            #expect(try await broker.next() == .connected)
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            #expect(broker.connectedClientIDs == ["", "assigned-by-broker-1"])
            try await client.disconnect()
            #expect(try await broker.next() == .closed)
            // The session may still exist at the broker: connect() asks for it by name.
            let again = try await client.connect()
            #expect(again.assignedClientID == nil) // the broker assigned nothing this time
            #expect(try await broker.next() == .connected)
            #expect(broker.connectedClientIDs == ["", "assigned-by-broker-1", "assigned-by-broker-1"])
            try await client.disconnect()
        }
    }

    /// A clean start with a session that outlives the connection reconnects under the assigned
    /// identifier too: the broker discards the old session at once instead of keeping it,
    /// unreachable, until it expires.
    @Test func cleanStartReconnectsUnderTheAssignedIDToo() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        broker.assignsClientID = "assigned-by-broker-2"
        try await T.within(30) {
            let client = Self.emptyIDClient(broker, expiry: 600, cleanStart: true)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            #expect(broker.connectedClientIDs == ["", "assigned-by-broker-2"])
            try await client.disconnect()
        }
    }

    /// A session that ends with the connection (expiry 0) leaves nothing to come back to: the
    /// client keeps asking for a new identifier. So does a connect() once the session has
    /// expired (its expiry interval, plus the 1.5 keep-alive intervals the broker may take to
    /// notice that the connection is gone).
    @Test func noSessionToResumeNoIdentifierReused() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        broker.assignsClientID = "assigned-by-broker-3"
        try await T.within(30) {
            let ending = Self.emptyIDClient(broker, expiry: 0)
            try await ending.connect()
            #expect(try await broker.next() == .connected)
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            #expect(broker.connectedClientIDs == ["", ""])
            try await ending.disconnect()
            #expect(try await broker.next() == .closed)

            let expiring = Self.emptyIDClient(broker, expiry: 1, keepAlive: .seconds(1))
            try await expiring.connect()
            #expect(try await broker.next() == .connected)
            try await expiring.disconnect()
            #expect(try await broker.next() == .closed)
            try await Task.sleep(for: .milliseconds(2800)) // 1 s + 1.5 × 1 s, and some
            let info = try await expiring.connect()
            #expect(info.assignedClientID == "assigned-by-broker-3")
            #expect(try await broker.next() == .connected)
            #expect(broker.connectedClientIDs == ["", "", "", ""])
            try await expiring.disconnect()
        }
    }

    /// MQTT 3.1.1: an empty identifier is only allowed with a clean session (no server ever
    /// assigns one that could be reused). A persistent session without one fails at once with
    /// an error that says so, before any connection is made, every time it is tried; a clean
    /// session with an empty identifier connects and reconnects with the empty one.
    @Test func v311PersistentSessionNeedsAClientID() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            var c = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: "", protocolVersion: .v311)
            c.keepAlive = .seconds(30)
            c.cleanStart = false
            c.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50), jitter: 0)
            let client = MQTTClient(configuration: c)
            let events = client.events
            let watching = Task { () -> [MQTTConnectionEvent] in
                var seen: [MQTTConnectionEvent] = []
                for await e in events { seen.append(e) } // until cancelled
                return seen
            }
            for _ in 0..<2 {
                do {
                    try await client.connect()
                    Issue.record("connected with an empty client ID and a persistent 3.1.1 session")
                } catch let error as MQTTError {
                    guard case .invalidArgument(let text) = error else {
                        Issue.record("unexpected \(error)")
                        continue
                    }
                    #expect(text.contains("client ID"), "\(text)")
                    #expect(text.contains("3.1.1"), "\(text)")
                }
                #expect(!client.isConnected)
            }

            // Nothing reached the broker: the first thing it sees is the clean client.
            var clean = c
            clean.cleanStart = true
            let cleanClient = MQTTClient(configuration: clean)
            let info = try await cleanClient.connect()
            #expect(info.assignedClientID == nil)
            #expect(try await broker.next() == .connected)
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            #expect(broker.connectedClientIDs == ["", ""])
            try await cleanClient.disconnect()

            // The refused client never connected nor tried to reconnect.
            try await Task.sleep(for: .milliseconds(300))
            watching.cancel()
            #expect(await watching.value.isEmpty)
        }
    }

    // MARK: Against mosquitto (2.0 assigns an identifier to a v5 client that sends none)

    static func persistentEmptyID(_ broker: Broker, reconnectAfter: Duration = .milliseconds(100)) -> MQTTConfiguration {
        var cfg = T.config(broker, "")
        cfg.clientID = ""
        cfg.cleanStart = false
        cfg.sessionExpiryInterval = 600
        cfg.reconnect = MQTTReconnectPolicy(initialDelay: reconnectAfter, maximumDelay: reconnectAfter, jitter: 0)
        return cfg
    }

    /// The connection is taken over (another connection under the assigned identifier, which
    /// then leaves the session behind), and a QoS 1 message reaches the session while the
    /// client is away: the client reconnects under the assigned identifier, the broker resumes
    /// the session, and the message arrives on the subscription made before.
    @Test func reconnectResumesTheSessionOfTheAssignedID() async throws {
        let broker = try Broker()
        let topic = "aid/\(UInt32.random(in: 0...UInt32.max))"
        try await T.within(60) {
            let client = MQTTClient(configuration: Self.persistentEmptyID(broker, reconnectAfter: .seconds(1)))
            let events = client.events
            let first = try await client.connect()
            let assigned = try #require(first.assignedClientID)
            #expect(!first.sessionPresent)
            let sub = try await client.subscribe(to: topic, qos: .atLeastOnce)

            var other = T.config(broker, "taker")
            other.clientID = assigned
            other.cleanStart = false
            other.sessionExpiryInterval = 600
            other.reconnect = .disabled
            let taker = MQTTClient(configuration: other)
            #expect(try await taker.connect().sessionPresent)
            try await taker.disconnect()
            let publisher = MQTTClient(configuration: T.config(broker, "aid-pub"))
            try await publisher.connect()
            try await publisher.publish(to: topic, string: "kept", qos: .atLeastOnce)

            var reconnected: MQTTSessionInfo?
            var lost = false
            for await e in events {
                if case .disconnected = e { lost = true }
                if case .connected(let info) = e, lost {
                    reconnected = info
                    break
                }
            }
            #expect(reconnected?.sessionPresent == true)
            try await publisher.publish(to: topic, string: "after", qos: .atLeastOnce)
            var it = sub.makeAsyncIterator()
            #expect(try await it.next()?.payloadString == "kept")
            try await publisher.disconnect()
            try await client.disconnect()
        }
    }

    /// connect() after disconnect() asks for the session kept under the assigned identifier.
    @Test func connectAfterDisconnectResumesTheAssignedSession() async throws {
        let broker = try Broker()
        try await T.within(30) {
            let client = MQTTClient(configuration: Self.persistentEmptyID(broker))
            let first = try await client.connect()
            #expect(first.assignedClientID != nil)
            _ = try await client.subscribe(to: "aid/again", qos: .atLeastOnce)
            try await client.disconnect()
            let again = try await client.connect()
            #expect(again.sessionPresent)
            try await client.disconnect()
        }
    }
}
