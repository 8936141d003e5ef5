import Foundation
import Mote
import Testing

/// Subscriptions and publishes at the edges of a connection: a cancelled subscription's
/// loop, a filter subscribed again while its UNSUBACK is lost with the connection, and a
/// publish that already failed when the next clean session starts.
@Suite(.serialized)
struct SessionEdgeTests {
    /// cancel() ends a loop that is waiting on the subscription, and unsubscribes.
    @Test func cancelEndsAWaitingLoop() async throws {
        let broker = try Broker()
        try await T.within(20) {
            let client = MQTTClient(configuration: T.config(broker, "cancel"))
            try await client.connect()
            let sub = try await client.subscribe(to: "cancel/x", qos: .atLeastOnce)
            let loop = Task { () -> Int in
                var n = 0
                for try await _ in sub { n += 1 }
                return n
            }
            #expect(await T.eventually { client.subscribedFilters == ["cancel/x"] })
            sub.cancel()
            #expect(try await loop.value == 0)
            #expect(await T.eventually { client.subscribedFilters.isEmpty })
            try await client.disconnect()
        }
    }

    /// A broker that stops answering: the keep-alive check ends the connection with
    /// `.timeout` (here without reconnecting, so the subscription ends with that error).
    @Test func silentBrokerEndsWithTimeout() async throws {
        let broker = try Broker()
        try await T.within(30) {
            var cfg = T.config(broker, "silent")
            cfg.keepAlive = .seconds(1)
            cfg.reconnect = .disabled
            let client = MQTTClient(configuration: cfg)
            try await client.connect()
            let sub = try await client.subscribe(to: "silent/x", qos: .atLeastOnce)
            broker.pause()
            defer { broker.resume() }
            do {
                for try await _ in sub {}
                Issue.record("the subscription ended without an error")
            } catch let e as MQTTError {
                #expect(e == .timeout)
            }
        }
    }

    /// A filter is unsubscribed and subscribed again, and the connection is lost before the
    /// UNSUBACK: after the reconnect the client subscribes it again and does not send the
    /// lost UNSUBSCRIBE again (that would end the new subscription at the broker).
    @Test(arguments: ClientTests.versions)
    func resubscribedFilterSurvivesALostUnsuback(version: MQTTProtocolVersion) async throws {
        let broker = try Broker()
        try await T.within(60) {
            let client = MQTTClient(configuration: T.config(broker, "resub", version))
            try await client.connect()
            let first = try await client.subscribe(to: "resub/x", qos: .atLeastOnce)
            broker.pause() // nothing is answered from here on
            first.cancel()
            let second = Task { try await client.subscribe(to: "resub/x", qos: .atLeastOnce) }
            try await Task.sleep(for: .milliseconds(200)) // both requests go out unanswered
            try broker.restart() // the connection is lost; the client reconnects
            let sub = try await second.value
            let publisher = MQTTClient(configuration: T.config(broker, "resub-pub", version))
            try await publisher.connect()
            try await publisher.publish(to: "resub/x", string: "hello", qos: .atLeastOnce)
            var it = sub.makeAsyncIterator()
            #expect(try await it.next()?.payloadString == "hello")
            try await publisher.disconnect()
            try await client.disconnect()
        }
    }

    /// A QoS 1 publish still unacknowledged at disconnect() fails with `.closed`; the next
    /// connect() with a clean session does not publish it again (the caller, told it failed,
    /// may publish it itself). The broker still delivers the copy it had received.
    @Test func publishFailedAtDisconnectIsNotSentAgain() async throws {
        let broker = try Broker()
        try await T.within(60) {
            let observer = MQTTClient(configuration: T.config(broker, "once-obs"))
            try await observer.connect()
            let seen = try await observer.subscribe(to: "once/x", qos: .atLeastOnce)
            let client = MQTTClient(configuration: T.config(broker, "once"))
            try await client.connect()
            broker.pause()
            let publishing = Task { try await client.publish(to: "once/x", string: "first", qos: .atLeastOnce) }
            try await Task.sleep(for: .milliseconds(200)) // written, not acknowledged
            try await client.disconnect()
            await #expect(throws: MQTTError.self) { try await publishing.value }
            broker.resume()
            let info = try await client.connect()
            #expect(!info.sessionPresent)
            try await client.publish(to: "once/x", string: "second", qos: .atLeastOnce)
            var firsts = 0
            for try await m in seen {
                if m.payloadString == "second" { break }
                firsts += 1
            }
            #expect(firsts <= 1)
            try await client.disconnect()
            try await observer.disconnect()
        }
    }
}
