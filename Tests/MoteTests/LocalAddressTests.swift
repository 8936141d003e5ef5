import Foundation
import Mote
import Testing

/// `MQTTConfiguration.localAddress`: the connection comes from the address asked for, over
/// TCP and TLS (mosquitto logs where each connection comes from), and an address that cannot
/// be bound fails the connect with an error that names it.
@Suite(.serialized)
struct LocalAddressTests {
    static let noticeLog = ["max_inflight_messages 0", "log_type notice"]

    @Test func plainConnectionComesFromTheLocalAddress() async throws {
        let broker = try Broker(extra: Self.noticeLog)
        try await T.within(20) {
            var cfg = T.config(broker, "local-plain")
            cfg.localAddress = "127.0.0.2"
            let client = MQTTClient(configuration: cfg)
            try await client.connect()
            try await client.publish(to: "local/a", string: "from 127.0.0.2", qos: .atLeastOnce)
            try await client.disconnect()
        }
        #expect(broker.log.contains("New connection from 127.0.0.2:"))
    }

    @Test func tlsConnectionComesFromTheLocalAddress() async throws {
        let pki = try PKI.shared.get()
        let broker = try Broker(tls: pki, extra: Self.noticeLog)
        try await T.within(30) {
            var cfg = MQTTConfiguration(host: "localhost", port: broker.tlsPort!, clientID: T.id("local-tls"),
                                        protocolVersion: .v5)
            cfg.tls = MQTTConfiguration.TLS(caFile: pki.path("ca.crt"), certificateFile: pki.path("client.crt"),
                                            privateKeyFile: pki.path("client.key"))
            cfg.localAddress = "127.0.0.3"
            let client = MQTTClient(configuration: cfg)
            try await client.connect()
            try await client.disconnect()
        }
        #expect(broker.log.contains("New connection from 127.0.0.3:"))
    }

    @Test func addressThatCannotBeBoundFailsTheConnect() async throws {
        let broker = try Broker()
        try await T.within(20) {
            var cfg = T.config(broker, "local-bad")
            cfg.localAddress = "192.0.2.7" // TEST-NET-1: not an address of this host
            cfg.reconnect = .disabled
            let client = MQTTClient(configuration: cfg)
            do {
                try await client.connect()
                Issue.record("connected from an address this host does not have")
            } catch let error as MQTTError {
                #expect("\(error)".contains("from local address 192.0.2.7"))
            }
        }
    }
}
