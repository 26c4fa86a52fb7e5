import Foundation
/// The symptoms the wizard starts from, in the operator's words.
public enum Symptom: String, Sendable, Codable, CaseIterable {
    case portForward = "port-forward"
    case invalid
    case tableFull = "table-full"
    case helpers
    case events
    case stuck

    /// The key that picks it in the menu.
    public var key: Character {
        switch self {
        case .portForward: "p"
        case .invalid: "i"
        case .tableFull: "t"
        case .helpers: "h"
        case .events: "e"
        case .stuck: "s"
        }
    }

    public var words: String {
        switch self {
        case .portForward: "port forward / NAT does nothing (packets disappear)"
        case .invalid: "connections reset or stall (INVALID packets)"
        case .tableFull: "new connections dropped under load (table full)"
        case .helpers: "FTP / SIP / TFTP data connection fails (helpers)"
        case .events: "`conntrack -E` or `-L` shows nothing (events, ctnetlink)"
        case .stuck: "something looks stuck (unconfirmed / dying entries)"
        }
    }

    public var hint: String {
        switch self {
        case .portForward: "trace one flow through every rule and name the rule that decides its fate"
        case .invalid: "make the kernel say why it marks packets INVALID, grouped and counted"
        case .tableFull: "usage, drops and failed inserts as rates, what fills the table, sizing"
        case .helpers: "helper checks, the expectation table, the exact CT helper rule"
        case .events: "ctnetlink, nf_conntrack_events, and a live NEW event test"
        case .stuck: "unconfirmed and dying lists sampled over time"
        }
    }

    /// Checks whose failure is, by itself, the cause this symptom looks for (port-forward and invalid name theirs
    /// from the trace and the kernel's reasons instead).
    public var causeChecks: Set<String> {
        switch self {
        case .portForward, .invalid: []
        case .tableFull: ["table.usage", "table.drops", "table.insert-failed"]
        case .helpers: ["helpers.unassigned", "helpers.broad", "helpers.expectations", "helpers.auto-assign"]
        case .events: ["events.enabled", "ctnetlink.available"]
        case .stuck: ["lists.unconfirmed-dying"]
        }
    }
}
