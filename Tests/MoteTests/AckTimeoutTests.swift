import Foundation
import Mote
import Testing

/// `MQTTConfiguration.ackTimeout`: a broker that stays connected (it answers PINGREQ) but
/// never acknowledges a request does not keep the caller waiting forever. The scripted broker
/// acknowledges only on cue; reconnection is off, so a dropped connection would surface as a
/// transport error (and a `.closed` event at the broker) instead of passing unnoticed.
@Suite(.serialized)
struct AckTimeoutTests {
    static func client(_ broker: ScriptedBroker, _ name: String, _ version: MQTTProtocolVersion = .v5,
                       ackTimeout: Duration?, keepAlive: Duration = .seconds(30),
                       maximumInflight: Int = 64) -> MQTTClient {
        broker.client(name, version, ackTimeout: ackTimeout, keepAlive: keepAlive, maximumInflight: maximumInflight)
    }

    @Test func defaultIsThirtySeconds() {
        let c = MQTTConfiguration(host: "127.0.0.1", clientID: "x")
        #expect(c.ackTimeout == .seconds(30))
    }

    /// A QoS 1 publish never acknowledged fails with `.timeout` while the connection stays up
    /// (pings answered); the PUBACK arriving afterwards is ignored, and a further publish that
    /// is acknowledged succeeds on the same connection.
    @Test(arguments: ClientTests.versions)
    func unackedPublishTimesOut(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "ackpub", version, ackTimeout: .seconds(2), keepAlive: .seconds(1))
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let first = Task { try await client.publish(to: "ack/x", string: "1", qos: .atLeastOnce) }
            let sent = try await broker.nextPublish()
            #expect(sent.topic == "ack/x" && sent.qos == 1)
            await #expect(throws: MQTTError.timeout) { try await first.value }
            #expect(client.isConnected)
            #expect(await T.eventually { broker.pings >= 1 })
            // Late: its caller has its answer already; the client must not mind.
            broker.puback(sent.packetID)
            let second = Task { try await client.publish(to: "ack/y", string: "2", qos: .atLeastOnce) }
            // The next thing the broker sees is this PUBLISH: no reconnect, no resend between.
            let next = try await broker.nextPublish()
            #expect(next.topic == "ack/y")
            broker.puback(next.packetID)
            try await second.value
            #expect(client.isConnected)
            try await client.disconnect()
            #expect(try await broker.next() == .closed)
        }
    }

    /// A SUBSCRIBE never acknowledged fails subscribe() with `.timeout` and leaves no
    /// subscription behind (the filter is unsubscribed); its late SUBACK resumes nothing; a
    /// later subscribe to the same filter that is acknowledged works.
    @Test(arguments: ClientTests.versions)
    func unackedSubscribeTimesOut(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "acksub", version, ackTimeout: .seconds(1))
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let lost = Task { try await client.subscribe(to: "ack/s", qos: .atLeastOnce) }
            let first = try await broker.nextSubscribe()
            #expect(first.filter == "ack/s" && first.qos == 1)
            await #expect(throws: MQTTError.timeout) { _ = try await lost.value }
            #expect(try await broker.next() == .unsubscribe(filter: "ack/s"))
            #expect(await T.eventually { client.subscribedFilters.isEmpty })
            // Late SUBACK: granted, but nobody holds the filter now.
            broker.suback(first.packetID, 1)
            let kept = Task { try await client.subscribe(to: "ack/s", qos: .atLeastOnce) }
            // The late grant may be followed by another UNSUBSCRIBE (when it came before the
            // new subscribe()); either way the new SUBSCRIBE follows.
            var event = try await broker.next()
            while event == .unsubscribe(filter: "ack/s") { event = try await broker.next() }
            guard case .subscribe(let id, let filter, let qos) = event else {
                Issue.record("expected a SUBSCRIBE, got \(event)")
                return
            }
            #expect(filter == "ack/s" && qos == 1)
            broker.suback(id, 1)
            let subscription = try await kept.value
            broker.publish(topic: "ack/s", payload: "hello")
            var it = subscription.makeAsyncIterator()
            #expect(try await it.next()?.payloadString == "hello")
            #expect(client.subscribedFilters == ["ack/s"])
            #expect(client.isConnected)
            try await client.disconnect()
        }
    }

    /// After a reconnect the resubscribe is never answered: the subscription granted before
    /// goes on (its timeout fails no one), and a new subscribe() to the filter sends a
    /// SUBSCRIBE of its own instead of waiting for the timed-out one.
    @Test func resubscribeTimeoutKeepsSubscriptionAndAsksAgain() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            var c = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: T.id("ackresub"))
            c.keepAlive = .seconds(30)
            c.ackTimeout = .seconds(1)
            c.reconnect = MQTTReconnectPolicy(initialDelay: .milliseconds(50))
            let client = MQTTClient(configuration: c)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let pending = Task { try await client.subscribe(to: "ack/r", qos: .atLeastOnce) }
            let first = try await broker.nextSubscribe()
            broker.suback(first.packetID, 1)
            let held = try await pending.value
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            let resubscribe = try await broker.nextSubscribe()
            #expect(resubscribe.filter == "ack/r")
            // Never answered; three times the timeout lets it expire.
            try await Task.sleep(for: .seconds(3))
            #expect(client.subscribedFilters == ["ack/r"])
            let joining = Task { try await client.subscribe(to: "ack/r", qos: .atLeastOnce) }
            let again = try await broker.nextSubscribe()
            #expect(again.filter == "ack/r" && again.qos == 1 && again.packetID != resubscribe.packetID)
            broker.suback(again.packetID, 1)
            let joined = try await joining.value
            broker.publish(topic: "ack/r", payload: "both")
            var a = held.makeAsyncIterator()
            var b = joined.makeAsyncIterator()
            #expect(try await a.next()?.payloadString == "both")
            #expect(try await b.next()?.payloadString == "both")
            try await client.disconnect()
        }
    }

    /// Without an ack timeout, unanswered requests keep waiting (well past the 1 s the other
    /// tests use) until cancelled or disconnected.
    @Test func nilAckTimeoutWaits() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "acknil", ackTimeout: nil)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let publishDone = Flag()
            let publish = Task {
                defer { publishDone.set() }
                try await client.publish(to: "ack/n", string: "n", qos: .atLeastOnce)
            }
            _ = try await broker.nextPublish()
            let subscribeDone = Flag()
            let subscribe = Task {
                defer { subscribeDone.set() }
                _ = try await client.subscribe(to: "ack/n", qos: .atMostOnce)
            }
            _ = try await broker.nextSubscribe()
            try await Task.sleep(for: .seconds(3))
            #expect(!publishDone.isSet)
            #expect(!subscribeDone.isSet)
            #expect(client.isConnected)
            publish.cancel()
            await #expect(throws: CancellationError.self) { try await publish.value }
            try await client.disconnect()
            await #expect(throws: MQTTError.closed) { try await subscribe.value }
        }
    }

    /// With one in-flight slot, the second message of a batch waits behind the first, which is
    /// never acknowledged: the first times out, the second is not sent (the timed-out one
    /// keeps its slot) and does not time out while it waits; the first's late PUBACK frees the
    /// slot, the second goes out and succeeds when acknowledged.
    @Test func queuedMessageDoesNotTimeOutBeforeItIsSent() async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "ackwin", ackTimeout: .seconds(1), maximumInflight: 1)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let batchDone = Flag()
            let batch = Task {
                defer { batchDone.set() }
                return await client.publish([MQTTOutgoingMessage(topic: "ack/a", payload: Array("a".utf8)),
                                             MQTTOutgoingMessage(topic: "ack/b", payload: Array("b".utf8))],
                                            qos: .atLeastOnce)
            }
            let a = try await broker.nextPublish()
            #expect(a.topic == "ack/a")
            // Three times the timeout: "a" has timed out, "b" waits unsent, so the batch waits.
            try await Task.sleep(for: .seconds(3))
            #expect(!batchDone.isSet)
            #expect(client.isConnected)
            broker.puback(a.packetID)
            let b = try await broker.nextPublish()
            #expect(b.topic == "ack/b")
            broker.puback(b.packetID)
            let results = await batch.value
            #expect(results.count == 2)
            if results.count == 2 {
                #expect(throws: MQTTError.timeout) { try results[0].get() }
                #expect(throws: Never.self) { try results[1].get() }
            }
            try await client.disconnect()
        }
    }
}
