import Foundation
import Mote
import Testing

struct JSONTests {
    let text = #"{"state":{"desired":{"setpoint":21.5,"mode":"eco","on":true},"lights":[{"on":false},{"on":true}]},"v":42,"n":null,"a.b":"dot","s":"caf\u00e9 \"q\""}"#

    @Test func subscriptsPathsAndTypedReads() throws {
        let doc = try JSONDocument(string: text)
        #expect(doc["state"]["desired"]["setpoint"].double == 21.5)
        #expect(doc["state"]["desired"]["mode"].string == "eco")
        #expect(doc["state"]["desired"]["on"].bool == true)
        #expect(doc["state"]["lights"][1]["on"].bool == true)
        #expect(doc["v"].int == 42)
        #expect(doc["n"].isNull)
        #expect(doc["s"].string == "café \"q\"")
        #expect(doc.value(at: "state.lights[1].on").bool == true)
        #expect(doc.value(at: "/state/lights/0/on").bool == false)
        #expect(doc.value(at: #"a\.b"#).string == "dot")
        #expect(!doc["missing"]["deeper"].exists)
        #expect(doc["v"].string == nil)
        #expect(doc["state"]["lights"].elements.count == 2)
        #expect(doc["state"]["desired"].keys == ["setpoint", "mode", "on"])
        #expect(doc["state"]["desired"]["setpoint"].rawText == "21.5")
    }

    /// The root value is the value itself, without the whitespace around it (payloads often
    /// end with a newline): typed reads, iteration and its text work on it.
    @Test func rootWithSurroundingWhitespace() throws {
        #expect(try JSONDocument(string: "42\n").root.int64 == 42)
        #expect(try JSONDocument(string: " \t\"s\"\r\n").root.string == "s")
        #expect(try JSONDocument(string: "true ").root.bool == true)
        let doc = try JSONDocument(string: "\n {\"state\":{\"on\":true},\"v\":[1,2]} \n")
        #expect(doc.root.keys == ["state", "v"])
        #expect(doc.root.rawText == #"{"state":{"on":true},"v":[1,2]}"#)
        #expect(doc["v"].elements.count == 2)
        #expect(try JSONDocument(string: "[1,2]\n").root.elements.count == 2)
    }

    /// `elements` lists an array's elements only; an object's member values are not its
    /// elements (they come with their keys from `members`).
    @Test func elementsOnlyOfArrays() throws {
        let doc = try JSONDocument(string: text)
        #expect(doc["state"]["desired"].elements.isEmpty)
        #expect(doc.root.elements.isEmpty)
        #expect(doc["state"]["desired"].members.count == 3)
        #expect(doc["state"]["lights"].elements.map { $0["on"].bool } == [false, true])
        #expect(doc["v"].elements.isEmpty)
    }

    @Test func strictValidation() {
        #expect(throws: JSONError.self) { try JSONDocument(string: #"{"a":1,}"#) }
        #expect(throws: JSONError.self) { try JSONDocument(bytes: []) }
        do {
            _ = try JSONDocument(string: "[1, 2")
            Issue.record("accepted truncated JSON")
        } catch {
            #expect(error.offset != nil)
            #expect(error.reason != nil)
        }
    }

    struct Desired: Codable, Equatable {
        var setpoint: Double
        var mode: String
        var on: Bool
    }

    @Test func codableNextToZeroCopyReads() throws {
        let doc = try JSONDocument(string: text)
        let desired = try doc["state"]["desired"].decode(Desired.self)
        #expect(desired == Desired(setpoint: 21.5, mode: "eco", on: true))
        let message = MQTTMessage(topic: "t", payload: Array(try JSONEncoder().encode(desired)))
        #expect(try message.decode(Desired.self) == desired)
        #expect(try message.json()["mode"].string == "eco")
    }
}
