import Foundation
import Mote
import Synchronization
import Testing

/// Against mosquitto started by each test (serialized: each test starts a broker and the
/// machine has two cores).
@Suite(.serialized)
struct ClientTests {
    static let versions: [MQTTProtocolVersion] = [.v311, .v5]

    /// The issue's sample program, as written.
    @Test func sampleProgram() async throws {
        let broker = try Broker()
        try await T.within(20) {
            var configuration = MQTTConfiguration(host: "127.0.0.1", port: broker.port, clientID: T.id("sensor-1"), protocolVersion: .v5)
            configuration.keepAlive = .seconds(30)
            let client = MQTTClient(configuration: configuration)
            try await client.connect()
            let subscription = try await client.subscribe(to: "demo/#", qos: .atLeastOnce)
            try await client.publish(to: "demo/hello", payload: Array("hi".utf8), qos: .atLeastOnce)
            var got: [String] = []
            for try await message in subscription {
                got.append(message.topic + " " + String(decoding: message.payload, as: UTF8.self))
                break
            }
            try await client.disconnect()
            #expect(got == ["demo/hello hi"])
        }
    }

    /// QoS 0/1/2 round trips, retained messages and the DUP/retain flags, in both versions.
    @Test(arguments: versions)
    func roundTripsInBothVersions(version: MQTTProtocolVersion) async throws {
        let broker = try Broker()
        try await T.within(20) {
            let client = MQTTClient(configuration: T.config(broker, "rt", version))
            let info = try await client.connect()
            #expect(!info.sessionPresent)
            try await client.publish(to: "rt/retained", payload: Array("kept".utf8), qos: .atLeastOnce, retain: true)
            let sub = try await client.subscribe(to: "rt/#", qos: .exactlyOnce)
            for qos in [MQTTQoS.atMostOnce, .atLeastOnce, .exactlyOnce] {
                try await client.publish(to: "rt/q\(qos.rawValue)", payload: [qos.rawValue, 0xFF, 0], qos: qos)
            }
            var seen: [String: MQTTMessage] = [:]
            for try await m in sub {
                seen[m.topic] = m
                if seen.count == 4 { break }
            }
            #expect(seen["rt/retained"]?.retain == true)
            #expect(seen["rt/retained"]?.payloadString == "kept")
            #expect(seen["rt/q0"]?.payload == [0, 0xFF, 0])
            #expect(seen["rt/q1"]?.qos == .atLeastOnce)
            #expect(seen["rt/q2"]?.qos == .exactlyOnce)
            #expect(seen.values.allSatisfy { !$0.isDuplicate })
            // Clear the retained message.
            try await client.publish(to: "rt/retained", payload: [], qos: .atLeastOnce, retain: true)
            try await client.disconnect()
        }
    }

    /// v5 properties travel as Swift values; a large payload is reassembled from chunks.
    @Test func v5PropertiesAndLargePayload() async throws {
        let broker = try Broker()
        try await T.within(20) {
            var cfg = T.config(broker, "props")
            cfg.receiveBufferSize = 4096
            let client = MQTTClient(configuration: cfg)
            try await client.connect()
            let sub = try await client.subscribe(to: "p/+", qos: .atLeastOnce)
            var props = MQTTPublishProperties()
            props.contentType = "application/json"
            props.responseTopic = "p/reply"
            props.correlationData = [1, 2, 3]
            props.messageExpiryInterval = 60
            props.userProperties = [MQTTUserProperty("a", "1"), MQTTUserProperty("a", "2")]
            try await client.publish(to: "p/x", payload: Array("{}".utf8), qos: .atLeastOnce, properties: props)
            let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try await client.publish(to: "p/big", payload: big, qos: .atLeastOnce)
            var it = sub.makeAsyncIterator()
            let m = try #require(try await it.next())
            #expect(m.properties.contentType == "application/json")
            #expect(m.properties.responseTopic == "p/reply")
            #expect(m.properties.correlationData == [1, 2, 3])
            #expect(m.properties.userProperties == [MQTTUserProperty("a", "1"), MQTTUserProperty("a", "2")])
            #expect((m.properties.messageExpiryInterval ?? 0) > 0)
            #expect(!m.properties.subscriptionIdentifiers.isEmpty)
            let b = try #require(try await it.next())
            #expect(b.topic == "p/big")
            #expect(b.payload == big)
            try await client.disconnect()
        }
    }

    /// 8 tasks × 1,000 QoS 1 messages at once: every publish acknowledged, every message
    /// received exactly once by a subscriber.
    @Test(arguments: versions)
    func concurrentPublishers(version: MQTTProtocolVersion) async throws {
        let broker = try Broker()
        try await T.within(120) {
            let subscriber = MQTTClient(configuration: T.config(broker, "sub", version))
            try await subscriber.connect()
            let sub = try await subscriber.subscribe(to: "load/#", qos: .atLeastOnce, bufferingPolicy: .dropNewest(limit: 20_000))
            let publisher = MQTTClient(configuration: T.config(broker, "pub", version))
            try await publisher.connect()
            let tasks = 8, perTask = 1000
            let receiver = Task { () -> [Int: Int] in
                var counts: [Int: Int] = [:]
                var total = 0
                for try await m in sub {
                    let n = Int(m.payloadString)!
                    counts[n, default: 0] += 1
                    total += 1
                    if total == tasks * perTask { break }
                }
                return counts
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<tasks {
                    group.addTask {
                        for i in 0..<perTask {
                            try await publisher.publish(to: "load/\(t)", string: String(t * perTask + i), qos: .atLeastOnce)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await receiver.value
            #expect(counts.count == tasks * perTask)
            #expect(counts.values.allSatisfy { $0 == 1 })
            try await publisher.disconnect()
            try await subscriber.disconnect()
        }
    }

    /// QoS 2: every message delivered exactly once.
    @Test func qos2ExactlyOnce() async throws {
        let broker = try Broker()
        try await T.within(60) {
            let client = MQTTClient(configuration: T.config(broker, "q2"))
            try await client.connect()
            let sub = try await client.subscribe(to: "q2/t", qos: .exactlyOnce)
            let n = 500
            let receiver = Task { () -> [Int] in
                var got: [Int] = []
                for try await m in sub {
                    #expect(m.qos == .exactlyOnce)
                    got.append(Int(m.payloadString)!)
                    if got.count == n { break }
                }
                return got
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for k in 0..<4 {
                    group.addTask {
                        for i in stride(from: k, to: n, by: 4) {
                            try await client.publish(to: "q2/t", string: String(i), qos: .exactlyOnce)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let got = try await receiver.value
            #expect(got.count == n)
            #expect(Set(got).count == n)
            // Nothing more arrives (no duplicates after the loop ended).
            try await Task.sleep(for: .milliseconds(200))
            try await client.disconnect()
        }
    }

    /// Cancelling the iterating task, or ending the loop, unsubscribes at the broker.
    @Test func cancellationUnsubscribes() async throws {
        let broker = try Broker()
        try await T.within(30) {
            let client = MQTTClient(configuration: T.config(broker, "cancel"))
            try await client.connect()
            let sub = try await client.subscribe(to: "c/one", qos: .atLeastOnce)
            #expect(client.subscribedFilters == ["c/one"])
            let started = Counter()
            let task = Task {
                started.add()
                for try await _ in sub {}
            }
            _ = await T.eventually { started.value > 0 }
            try await Task.sleep(for: .milliseconds(50))
            task.cancel()
            _ = try? await task.value
            #expect(await T.eventually { client.subscribedFilters.isEmpty })

            // Ending the loop with break.
            let sub2 = try await client.subscribe(to: "c/two", qos: .atLeastOnce)
            try await client.publish(to: "c/two", string: "x", qos: .atLeastOnce)
            for try await _ in sub2 { break }
            #expect(await T.eventually { client.subscribedFilters.isEmpty })

            // Overlapping subscriptions: each gets the messages that match it; dropping one
            // keeps the other working.
            let wide = try await client.subscribe(to: "o/#", qos: .atLeastOnce)
            let narrow = try await client.subscribe(to: "o/a", qos: .atLeastOnce)
            let narrowTwin = try await client.subscribe(to: "o/a", qos: .atLeastOnce)
            try await client.publish(to: "o/a", string: "1", qos: .atLeastOnce)
            try await client.publish(to: "o/b", string: "2", qos: .atLeastOnce)
            var wi = wide.makeAsyncIterator(), ni = narrow.makeAsyncIterator(), ti = narrowTwin.makeAsyncIterator()
            #expect(try await wi.next()?.topic == "o/a")
            #expect(try await wi.next()?.topic == "o/b")
            #expect(try await ni.next()?.topic == "o/a")
            #expect(try await ti.next()?.topic == "o/a")
            narrowTwin.cancel()
            try await client.publish(to: "o/a", string: "3", qos: .atLeastOnce)
            #expect(try await ni.next()?.payloadString == "3")
            #expect(try await wi.next()?.payloadString == "3")
            #expect(client.subscribedFilters == ["o/#", "o/a"])
            await #expect(throws: MQTTError.self) { _ = try await client.subscribe(to: "bad/#/filter") }
            try await client.disconnect()
        }
    }

    /// Connection failures are typed and carry the C reason.
    @Test func typedErrors() async throws {
        var cfg = MQTTConfiguration(host: "127.0.0.1", port: Broker.freePort(), clientID: T.id("nobody"))
        cfg.connectTimeout = .seconds(2)
        let client = MQTTClient(configuration: cfg)
        do {
            try await client.connect()
            Issue.record("connect to a closed port succeeded")
        } catch let e as MQTTError {
            guard case .transport(let core, _) = e else { Issue.record("unexpected \(e)"); return }
            #expect(core.code < 0)
            #expect(!core.description.isEmpty)
        }
        // Offline publishing fails once the client is stopped.
        await #expect(throws: MQTTError.self) {
            try await client.publish(to: "x", string: "y")
        }
        await #expect(throws: MQTTError.self) {
            try await client.publish(to: "bad/#", string: "y")
        }
    }

    /// Mutual TLS with the test PKI (files and PEM in memory); a client without a
    /// certificate is refused.
    @Test(arguments: versions)
    func tlsWithClientCertificates(version: MQTTProtocolVersion) async throws {
        let pki = try PKI.shared.get()
        let broker = try Broker(tls: pki)
        try await T.within(30) {
            var cfg = MQTTConfiguration(host: "localhost", port: broker.tlsPort!, clientID: T.id("tls"), protocolVersion: version)
            cfg.tls = MQTTConfiguration.TLS(caFile: pki.path("ca.crt"), certificateFile: pki.path("client.crt"),
                                            privateKeyFile: pki.path("client.key"))
            let client = MQTTClient(configuration: cfg)
            try await client.connect()
            let sub = try await client.subscribe(to: "tls/#", qos: .atLeastOnce)
            try await client.publish(to: "tls/x", string: "secure", qos: .atLeastOnce)
            var it = sub.makeAsyncIterator()
            #expect(try await it.next()?.payloadString == "secure")
            // A stream over TLS: 20 tasks × 100 QoS 1 messages of 2 KB, all received.
            let big = String(repeating: "x", count: 2048)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for t in 0..<20 {
                    group.addTask {
                        for i in 0..<100 { try await client.publish(to: "tls/s", string: "\(t * 100 + i) \(big)", qos: .atLeastOnce) }
                    }
                }
                try await group.waitForAll()
            }
            var seen = Set<Int>()
            while seen.count < 2000, let m = try await it.next() {
                seen.insert(Int(m.payloadString.split(separator: " ")[0])!)
            }
            #expect(seen.count == 2000)
            try await client.disconnect()

            var pem = cfg
            pem.clientID = T.id("tls-pem")
            pem.tls = MQTTConfiguration.TLS(caPEM: try String(contentsOfFile: pki.path("ca.crt"), encoding: .utf8),
                                            certificatePEM: try String(contentsOfFile: pki.path("client-rsa.crt"), encoding: .utf8),
                                            privateKeyPEM: try String(contentsOfFile: pki.path("client-rsa.key"), encoding: .utf8))
            pem.tls?.serverName = "localhost"
            let pemClient = MQTTClient(configuration: pem)
            try await pemClient.connect()
            try await pemClient.publish(to: "tls/y", string: "pem", qos: .atLeastOnce)
            try await pemClient.disconnect()

            var anonymous = cfg
            anonymous.clientID = T.id("tls-anon")
            anonymous.tls = MQTTConfiguration.TLS(caFile: pki.path("ca.crt"))
            anonymous.reconnect = .disabled
            let refused = MQTTClient(configuration: anonymous)
            do {
                try await refused.connect()
                Issue.record("connected without a client certificate")
            } catch let e as MQTTError {
                #expect(e.coreError != nil, "\(e)")
            }
        }
    }
}
