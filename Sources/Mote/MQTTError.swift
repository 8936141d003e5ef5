import CMote

/// An error code from the C core or its transports (`mote_err_t`), with its text.
public struct MoteCoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The negative `mote_err_t` value.
    public let code: Int32
    public init(code: Int32) { self.code = code }
    /// `mote_strerror` text.
    public var description: String { String(cString: mote_strerror(code)) }

    static let notConnected = MoteCoreError(code: MOTE_ERR_NOT_CONNECTED.rawValue)
}

/// Errors thrown by ``MQTTClient`` and delivered to subscriptions. Switch on the case; each
/// carries the C core's reason (``MoteCoreError``) or the broker's reason code.
public enum MQTTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A bad argument (topic, filter, property) detected before anything was sent.
    case invalidArgument(String)
    /// TCP connect, DNS or an I/O failure, with the C code and details (errno text, host).
    case transport(MoteCoreError, detail: String)
    /// TLS failure: certificate, handshake, key; `detail` is the adapter's one-line cause.
    case tls(MoteCoreError, detail: String)
    /// The broker refused CONNECT (v5 reason code or v3.1.1 return code).
    case connectionRefused(reasonCode: UInt8, reason: String)
    /// The broker refused a PUBLISH (v5 reason code ≥ 0x80 in PUBACK/PUBREC).
    case publishRejected(reasonCode: UInt8, reason: String)
    /// The broker refused a subscription (SUBACK reason code ≥ 0x80).
    case subscriptionRejected(filter: String, reasonCode: UInt8, reason: String)
    /// The broker sent DISCONNECT (v5).
    case serverDisconnected(reasonCode: UInt8, reason: String)
    /// A protocol or other C core failure.
    case protocolError(MoteCoreError)
    /// Not connected, and the configuration says to fail fast.
    case notConnected
    /// The offline publish queue is full.
    case queueFull
    /// The message was dropped because the broker started a new session before it was acknowledged.
    case sessionLost
    /// No answer in time: an acknowledgement missing for ``MQTTConfiguration/ackTimeout``,
    /// or a PINGRESP missing for the keep-alive interval.
    case timeout
    /// The client was disconnected (by ``MQTTClient/disconnect()``) or gave up reconnecting.
    case closed
    /// The waiting task was cancelled (a batch's messages; a single publish throws
    /// `CancellationError`). A message not sent yet was withdrawn; one already sent stays
    /// in the session and may still reach the broker.
    case cancelled

    public var description: String {
        switch self {
        case .invalidArgument(let s): return "invalid argument: \(s)"
        case .transport(let e, let d): return d.isEmpty ? "transport: \(e)" : "transport: \(e) (\(d))"
        case .tls(let e, let d): return d.isEmpty ? "TLS: \(e)" : "TLS: \(e) (\(d))"
        case .connectionRefused(let c, let r): return "connection refused: \(r) (0x\(String(c, radix: 16)))"
        case .publishRejected(let c, let r): return "publish rejected: \(r) (0x\(String(c, radix: 16)))"
        case .subscriptionRejected(let f, let c, let r):
            return "subscription to \(f) rejected: \(r) (0x\(String(c, radix: 16)))"
        case .serverDisconnected(let c, let r): return "server disconnected: \(r) (0x\(String(c, radix: 16)))"
        case .protocolError(let e): return "protocol: \(e)"
        case .notConnected: return "not connected"
        case .queueFull: return "offline publish queue full"
        case .sessionLost: return "message dropped: the broker started a new session"
        case .timeout: return "timed out"
        case .closed: return "client closed"
        case .cancelled: return "cancelled while waiting"
        }
    }

    /// The C core's error code behind this error, if any.
    public var coreError: MoteCoreError? {
        switch self {
        case .transport(let e, _), .tls(let e, _), .protocolError(let e): return e
        default: return nil
        }
    }

    /// The broker's reason code behind this error, if any.
    public var reasonCode: UInt8? {
        switch self {
        case .connectionRefused(let c, _), .publishRejected(let c, _), .serverDisconnected(let c, _),
             .subscriptionRejected(_, let c, _):
            return c
        default: return nil
        }
    }

    static func reasonText(_ code: UInt8) -> String {
        String(cString: mote_mqtt_reason_string(code))
    }

    /// Map a C code to the matching case.
    static func fromCore(_ code: Int32, detail: String = "") -> MQTTError {
        let e = MoteCoreError(code: code)
        switch code {
        case MOTE_ERR_NOT_CONNECTED.rawValue: return .notConnected
        case MOTE_ERR_TIMEOUT.rawValue, MOTE_ERR_KEEPALIVE_TIMEOUT.rawValue: return .timeout
        case MOTE_ERR_BAD_TOPIC.rawValue, MOTE_ERR_BAD_ARG.rawValue, MOTE_ERR_BAD_QOS.rawValue,
             MOTE_ERR_BAD_UTF8.rawValue:
            return .invalidArgument(detail.isEmpty ? e.description : "\(e): \(detail)")
        case MOTE_ERR_TLS_BAD_CERT.rawValue...MOTE_ERR_TLS.rawValue:
            return .tls(e, detail: detail)
        case MOTE_ERR_FILE.rawValue...MOTE_ERR_TRANSPORT.rawValue:
            return .transport(e, detail: detail)
        default:
            return .protocolError(e)
        }
    }
}
