import Foundation
import Mote
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Several subscriptions to one filter at different QoS: the client sends one SUBSCRIBE per
/// QoS raise, and each SUBACK answers only the subscribers whose QoS it covers. A scripted
/// broker answers (or withholds) each SUBACK on cue, which mosquitto cannot be made to do.
@Suite(.serialized)
struct SubscriptionUpgradeTests {
    static func client(_ broker: ScriptedBroker, _ name: String, _ version: MQTTProtocolVersion) -> MQTTClient {
        broker.client(name, version, reconnect: true)
    }

    /// A second subscriber asks for QoS 1 while the group's QoS 0 SUBSCRIBE is unanswered.
    /// The QoS 0 SUBACK answers the first subscriber only; the second still waits for its own
    /// SUBACK, so when the connection ends before that arrives, its subscribe() fails.
    @Test(arguments: ClientTests.versions)
    func upgradeWaitsForItsOwnSuback(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "upwait", version)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "up/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            #expect(first.filter == "up/x" && first.qos == 0)
            let high = Task { try await client.subscribe(to: "up/x", qos: .atLeastOnce) }
            let second = try await broker.nextSubscribe()
            #expect(second.filter == "up/x" && second.qos == 1)
            broker.suback(first.packetID, 0)
            let sub = try await low.value
            // The QoS 1 SUBACK never comes.
            try await client.disconnect()
            await #expect(throws: MQTTError.closed) { _ = try await high.value }
            for try await _ in sub {}
        }
    }

    /// Both SUBACKs grant: the upgrader returns only after its own SUBACK was sent, and both
    /// subscribers receive the broker's messages. (The order check catches an early resume
    /// only when the upgrader's task runs before the test sends that SUBACK;
    /// `upgradeWaitsForItsOwnSuback` catches it every time.)
    @Test(arguments: ClientTests.versions)
    func grantedUpgradeResumesOnItsOwnSuback(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "upgrant", version)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "up/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            let secondAckSent = Flag()
            let high = Task { () -> (MQTTSubscription, Bool) in
                let s = try await client.subscribe(to: "up/x", qos: .atLeastOnce)
                return (s, secondAckSent.isSet)
            }
            let second = try await broker.nextSubscribe()
            #expect(second.qos == 1)
            broker.suback(first.packetID, 0)
            let lowSub = try await low.value
            secondAckSent.set()
            broker.suback(second.packetID, 1)
            let (highSub, returnedAfterItsAck) = try await high.value
            #expect(returnedAfterItsAck)
            broker.publish(topic: "up/x", payload: "m1")
            var a = lowSub.makeAsyncIterator()
            var b = highSub.makeAsyncIterator()
            #expect(try await a.next()?.payloadString == "m1")
            #expect(try await b.next()?.payloadString == "m1")
            try await client.disconnect()
        }
    }

    /// The broker rejects an upgrade from QoS 0 to QoS 1: only the upgrader fails; the QoS 0
    /// subscriber keeps receiving, a later QoS 0 subscriber joins without a SUBSCRIBE, nothing
    /// is unsubscribed, and after a reconnect the filter is subscribed again at QoS 0.
    @Test(arguments: ClientTests.versions)
    func rejectedUpgradeKeepsExistingSubscribers(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "upreject", version)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "up/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            broker.suback(first.packetID, 0)
            let lowSub = try await low.value
            let high = Task { try await client.subscribe(to: "up/x", qos: .atLeastOnce) }
            let second = try await broker.nextSubscribe()
            #expect(second.filter == "up/x" && second.qos == 1)
            let refusal: UInt8 = version == .v5 ? 0x87 : 0x80 // 3.1.1 knows only 0x80
            broker.suback(second.packetID, refusal)
            do {
                _ = try await high.value
                Issue.record("the rejected upgrade returned a subscription")
            } catch let MQTTError.subscriptionRejected(filter, code, _) {
                #expect(filter == "up/x" && code == refusal)
            }
            #expect(client.subscribedFilters == ["up/x"])
            broker.publish(topic: "up/x", payload: "after")
            var a = lowSub.makeAsyncIterator()
            #expect(try await a.next()?.payloadString == "after")
            // Held at QoS 0: another QoS 0 subscriber needs no SUBSCRIBE (the next packet the
            // broker sees is the one after the reconnect).
            let other = try await client.subscribe(to: "up/x", qos: .atMostOnce)
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            let again = try await broker.nextSubscribe()
            #expect(again.filter == "up/x" && again.qos == 0)
            broker.suback(again.packetID, 0)
            broker.publish(topic: "up/x", payload: "again")
            var c = other.makeAsyncIterator()
            #expect(try await a.next()?.payloadString == "again")
            #expect(try await c.next()?.payloadString == "again")
            try await client.disconnect()
        }
    }

    /// The connection is lost while an upgrade is unanswered and the broker starts a new
    /// session: the client subscribes again at the upgrade's QoS; when that is refused, the
    /// upgrader fails and the client subscribes again at the QoS granted before, for the
    /// subscriber that holds it.
    @Test(arguments: ClientTests.versions)
    func upgradeRefusedInANewSessionFallsBackToTheGrantedQoS(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "upfall", version)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "up/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            broker.suback(first.packetID, 0)
            let lowSub = try await low.value
            let high = Task { try await client.subscribe(to: "up/x", qos: .exactlyOnce) }
            #expect(try await broker.nextSubscribe().qos == 2) // never answered
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            let retry = try await broker.nextSubscribe()
            #expect(retry.qos == 2)
            broker.suback(retry.packetID, 0x80)
            await #expect(throws: MQTTError.self) { _ = try await high.value }
            let fallback = try await broker.nextSubscribe()
            #expect(fallback.filter == "up/x" && fallback.qos == 0)
            broker.suback(fallback.packetID, 0)
            broker.publish(topic: "up/x", payload: "kept")
            var a = lowSub.makeAsyncIterator()
            #expect(try await a.next()?.payloadString == "kept")
            #expect(client.subscribedFilters == ["up/x"])
            try await client.disconnect()
        }
    }

    /// A group never granted anything fails whole when its first SUBACK rejects it, the
    /// waiting upgrader included; the upgrade's SUBACK granting afterwards leaves no
    /// subscription behind at the broker (the client unsubscribes it).
    @Test(arguments: ClientTests.versions)
    func rejectionBeforeAnyGrantEndsTheGroup(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "upnone", version)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "up/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            let high = Task { try await client.subscribe(to: "up/x", qos: .atLeastOnce) }
            let second = try await broker.nextSubscribe()
            broker.suback(first.packetID, 0x80)
            for task in [low, high] {
                do {
                    _ = try await task.value
                    Issue.record("a subscriber of the rejected group returned a subscription")
                } catch let MQTTError.subscriptionRejected(filter, code, _) {
                    #expect(filter == "up/x" && code == 0x80)
                }
            }
            broker.suback(second.packetID, 1)
            #expect(try await broker.next() == .unsubscribe(filter: "up/x"))
            #expect(await T.eventually { client.subscribedFilters.isEmpty })
            try await client.disconnect()
        }
    }

    /// Subscribers at QoS 0 and 1 share a filter, both granted; the QoS 1 one ends. Nothing is
    /// sent for that on the live connection (the broker holding QoS 1 is harmless), but after a
    /// reconnect to a new session the filter is asked for at QoS 0, the highest still wanted,
    /// and the QoS 0 subscriber keeps receiving.
    @Test(arguments: ClientTests.versions)
    func resubscribeAsksOnlyForTheQoSStillWanted(version: MQTTProtocolVersion) async throws {
        let broker = try ScriptedBroker()
        defer { broker.stop() }
        try await T.within(30) {
            let client = Self.client(broker, "updown", version)
            try await client.connect()
            #expect(try await broker.next() == .connected)
            let low = Task { try await client.subscribe(to: "up/x", qos: .atMostOnce) }
            let first = try await broker.nextSubscribe()
            #expect(first.filter == "up/x" && first.qos == 0)
            broker.suback(first.packetID, 0)
            let lowSub = try await low.value
            let high = Task { try await client.subscribe(to: "up/x", qos: .atLeastOnce) }
            let second = try await broker.nextSubscribe()
            #expect(second.filter == "up/x" && second.qos == 1)
            broker.suback(second.packetID, 1)
            let highSub = try await high.value
            highSub.cancel()
            // The client handles the cancel before it sends a publish made after it; no
            // SUBSCRIBE or UNSUBSCRIBE comes before that publish.
            let marker = Task { try await client.publish(to: "up/marker", string: "m", qos: .atLeastOnce) }
            let p = try await broker.nextPublish()
            #expect(p.topic == "up/marker")
            broker.puback(p.packetID)
            try await marker.value
            broker.dropClient()
            #expect(try await broker.next() == .closed)
            #expect(try await broker.next() == .connected)
            let again = try await broker.nextSubscribe()
            #expect(again.filter == "up/x" && again.qos == 0)
            broker.suback(again.packetID, 0)
            broker.publish(topic: "up/x", payload: "still")
            var a = lowSub.makeAsyncIterator()
            #expect(try await a.next()?.payloadString == "still")
            // The broker holds QoS 0 now: a new QoS 1 subscriber waits for its own SUBACK, and
            // its refusal fails only it.
            let upper = Task { try await client.subscribe(to: "up/x", qos: .atLeastOnce) }
            let third = try await broker.nextSubscribe()
            #expect(third.filter == "up/x" && third.qos == 1)
            broker.suback(third.packetID, 0x80)
            await #expect(throws: MQTTError.self) { _ = try await upper.value }
            broker.publish(topic: "up/x", payload: "kept")
            #expect(try await a.next()?.payloadString == "kept")
            #expect(client.subscribedFilters == ["up/x"])
            try await client.disconnect()
        }
    }
}
