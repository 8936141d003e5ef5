import Foundation
import Mote
import Testing

/// Batched publishes (`MQTTClient.publish(_:qos:)`) against mosquitto.
@Suite(.serialized)
struct BatchTests {
    /// 5,000 QoS 1 messages in batches of 100 through a 20-message in-flight window: every
    /// one is acknowledged, and a subscriber receives each exactly once, in order.
    @Test(arguments: [MQTTProtocolVersion.v311, .v5])
    func qos1BatchesAreAckedAndReceivedInOrder(version: MQTTProtocolVersion) async throws {
        let broker = try Broker()
        try await T.within(60) {
            let receiver = MQTTClient(configuration: T.config(broker, "batch-rx", version))
            try await receiver.connect()
            let sub = try await receiver.subscribe(to: "batch/#", qos: .atLeastOnce,
                                                   bufferingPolicy: .dropNewest(limit: 10_000))
            var cfg = T.config(broker, "batch-tx", version)
            cfg.maximumInflight = 20
            let sender = MQTTClient(configuration: cfg)
            try await sender.connect()
            let total = 5_000
            var acked = 0
            for start in stride(from: 0, to: total, by: 100) {
                let batch = (start..<start + 100).map { MQTTOutgoingMessage(topic: "batch/n", payload: Array(String($0).utf8)) }
                let results = await sender.publish(batch, qos: .atLeastOnce)
                #expect(results.count == 100)
                for r in results {
                    if case .success = r { acked += 1 } else { Issue.record("publish failed: \(r)") }
                }
            }
            #expect(acked == total)
            // A sentinel published after the batches: nothing may arrive between the last
            // numbered message and it (no duplicates after the end).
            try await sender.publish(to: "batch/end", payload: [], qos: .atLeastOnce)
            var received: [Int] = []
            for try await m in sub {
                if m.topic == "batch/end" { break }
                received.append(Int(m.payloadString) ?? -1)
            }
            #expect(received.count == total)
            #expect(received == Array(0..<total))
            try await sender.disconnect()
            try await receiver.disconnect()
        }
    }

    /// A message with an invalid topic fails with a typed error; the others are published.
    @Test func invalidTopicFailsOnlyThatMessage() async throws {
        let broker = try Broker()
        try await T.within(20) {
            let client = MQTTClient(configuration: T.config(broker, "batch-bad"))
            try await client.connect()
            let sub = try await client.subscribe(to: "good/#", qos: .atLeastOnce)
            let batch = [
                MQTTOutgoingMessage(topic: "good/1", payload: [1]),
                MQTTOutgoingMessage(topic: "bad/+/wild", payload: [2]),
                MQTTOutgoingMessage(topic: "good/3", payload: [3]),
                MQTTOutgoingMessage(topic: "", payload: [4]),
                MQTTOutgoingMessage(topic: "good/5", payload: [5]),
            ]
            let results = await client.publish(batch, qos: .atLeastOnce)
            #expect(results.count == 5)
            for i in [0, 2, 4] {
                guard case .success = results[i] else { Issue.record("message \(i): \(results[i])"); continue }
            }
            for i in [1, 3] {
                guard case .failure(.invalidArgument) = results[i] else { Issue.record("message \(i): \(results[i])"); continue }
            }
            var got: [[UInt8]] = []
            for try await m in sub {
                got.append(m.payload)
                if got.count == 3 { break }
            }
            #expect(got == [[1], [3], [5]])
            try await client.disconnect()
        }
    }

    /// Without a connection every message fails with `notConnected`; an empty batch is empty.
    @Test func batchWithoutConnectionFails() async throws {
        let client = MQTTClient(configuration: MQTTConfiguration(host: "127.0.0.1", port: 1, clientID: T.id("batch-off")))
        let results = await client.publish([MQTTOutgoingMessage(topic: "a", payload: []),
                                            MQTTOutgoingMessage(topic: "b", payload: [])], qos: .exactlyOnce)
        #expect(results.count == 2)
        for r in results {
            guard case .failure(.notConnected) = r else { Issue.record("\(r)"); continue }
        }
        #expect(await client.publish([], qos: .atLeastOnce).isEmpty)
    }
}
