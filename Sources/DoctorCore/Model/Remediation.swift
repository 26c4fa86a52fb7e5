/// How to fix a finding, as data. Commands are argument vectors; they are quoted only when printed.
public struct Remediation: Codable, Sendable, Equatable {
    public var summary: String
    public var steps: [RemediationStep]

    public init(summary: String, steps: [RemediationStep]) {
        self.summary = summary
        self.steps = steps
    }
}

public struct RemediationStep: Codable, Sendable, Equatable {
    public enum Scope: String, Codable, Sendable {
        /// Changes the running value in this network namespace; lost at reboot.
        case runtime
        /// Writes configuration that applies at boot.
        case persistent
        /// Only works from the initial network namespace (global keys such as nf_log_all_netns).
        case initialNamespaceOnly = "initial-namespace-only"
        /// Loads a kernel module (global; needs CAP_SYS_MODULE on the host).
        case needsModule = "needs-module"
    }

    public enum Risk: String, Codable, Sendable {
        case safe
        /// Can break live traffic or weaken a protection; the text says how.
        case disruptive
    }

    /// A value to read back after the step, to prove it took effect.
    public struct Verification: Codable, Sendable, Equatable {
        public var sysctl: String
        public var equals: String

        public init(sysctl: String, equals: String) {
            self.sysctl = sysctl
            self.equals = equals
        }
    }

    /// What `fix --apply` does for this step: the single source of truth. The command a person would type for the
    /// same effect (`argv`, `command`) is derived from it, so a report, a script and `--apply` cannot disagree.
    public enum Action: Codable, Sendable, Equatable {
        /// Write `value` to /proc/sys/<key> directly (sysctl -w).
        case sysctl(key: String, value: String)
        /// Run this program (no shell).
        case command([String])
        /// Write this whole file (only ctdoctor's own files under /etc/sysctl.d and /etc/modules-load.d).
        case writeFile(path: String, contents: String)
        /// Write a query to a kernel control file (dynamic debug); `undoText` is the query that reverses it.
        case controlWrite(path: String, text: String, undoText: String?)
        /// Nothing ctdoctor can do itself: a person has to act.
        case advice
    }

    public var purpose: String
    public var action: Action
    public var scope: Scope
    public var risk: Risk
    /// The command that puts back what was there before, when there is one; `[]` when there is nothing to put back.
    public var undo: [String]?
    public var verify: Verification?

    /// The command as an argument vector, or nil when the step is advice a person has to carry out.
    public var argv: [String]? { action.argv }

    /// The command as a POSIX shell would need it typed (it can span lines: a here-document).
    public var command: String? { action.shellCommand }

    /// A step that runs `argv` (no shell), or advice when `argv` is nil.
    public init(purpose: String, argv: [String]?, scope: Scope, risk: Risk = .safe,
                undo: [String]? = nil, verify: Verification? = nil) {
        self.init(purpose: purpose, action: argv.map(Action.command) ?? .advice, scope: scope, risk: risk, undo: undo, verify: verify)
    }

    public init(purpose: String, action: Action, scope: Scope, risk: Risk = .safe,
                undo: [String]? = nil, verify: Verification? = nil) {
        self.purpose = purpose
        self.action = action
        self.scope = scope
        self.risk = risk
        self.undo = undo
        self.verify = verify
    }

    private enum CodingKeys: String, CodingKey { case purpose, argv, command, action, scope, risk, undo, verify }

    /// `argv` and `command` are written for readers of the JSON; reading, only `action` counts (`argv` stands in
    /// for it in documents that lack it).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        purpose = try c.decode(String.self, forKey: .purpose)
        action = try c.decodeIfPresent(Action.self, forKey: .action)
            ?? c.decodeIfPresent([String].self, forKey: .argv).map(Action.command) ?? .advice
        scope = try c.decode(Scope.self, forKey: .scope)
        risk = try c.decode(Risk.self, forKey: .risk)
        undo = try c.decodeIfPresent([String].self, forKey: .undo)
        verify = try c.decodeIfPresent(Verification.self, forKey: .verify)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(purpose, forKey: .purpose)
        try c.encode(argv, forKey: .argv)
        try c.encode(command, forKey: .command)
        try c.encode(action, forKey: .action)
        try c.encode(scope, forKey: .scope)
        try c.encode(risk, forKey: .risk)
        try c.encode(undo, forKey: .undo)
        try c.encode(verify, forKey: .verify)
    }
}

extension RemediationStep {
    /// `sysctl -w key=value`, undone by writing `previous` back, verified by reading the key.
    public static func sysctl(
        _ key: String, _ value: String, previous: String?, purpose: String,
        scope: Scope = .runtime, risk: Risk = .safe
    ) -> RemediationStep {
        RemediationStep(
            purpose: purpose,
            action: .sysctl(key: key, value: value),
            scope: scope,
            risk: risk,
            undo: previous.map { ["sysctl", "-w", "\(key)=\($0)"] },
            verify: Verification(sysctl: key, equals: value))
    }

    /// `modprobe name`, undone by `modprobe -r name`.
    public static func modprobe(_ module: String, purpose: String) -> RemediationStep {
        RemediationStep(
            purpose: purpose, argv: ["modprobe", module], scope: .needsModule,
            undo: ["modprobe", "-r", module])
    }

    /// Writes one of ctdoctor's own boot files whole. Printed as a here-document that writes the same text.
    public static func ownFile(_ path: String, contents: String, purpose: String) -> RemediationStep {
        RemediationStep(purpose: purpose, action: .writeFile(path: path, contents: contents), scope: .persistent)
    }

    /// A step a person has to carry out; nothing to run.
    public static func advice(_ text: String, scope: Scope = .runtime, risk: Risk = .safe) -> RemediationStep {
        RemediationStep(purpose: text, argv: nil, scope: scope, risk: risk)
    }
}

/// Encoded as `{"kind": "sysctl", "key": …, "value": …}`, `{"kind": "command", "argv": […]}` or `{"kind": "advice"}`.
extension RemediationStep.Action {
    private enum Key: String, CodingKey { case kind, key, value, argv, path, contents, text, undoText }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "sysctl": self = .sysctl(key: try c.decode(String.self, forKey: .key), value: try c.decode(String.self, forKey: .value))
        case "command": self = .command(try c.decode([String].self, forKey: .argv))
        case "advice": self = .advice
        case "write-file": self = .writeFile(path: try c.decode(String.self, forKey: .path), contents: try c.decode(String.self, forKey: .contents))
        case "control-write":
            self = .controlWrite(path: try c.decode(String.self, forKey: .path), text: try c.decode(String.self, forKey: .text),
                                 undoText: try c.decodeIfPresent(String.self, forKey: .undoText))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown action kind \"\(other)\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .sysctl(let key, let value):
            try c.encode("sysctl", forKey: .kind)
            try c.encode(key, forKey: .key)
            try c.encode(value, forKey: .value)
        case .command(let argv):
            try c.encode("command", forKey: .kind)
            try c.encode(argv, forKey: .argv)
        case .advice:
            try c.encode("advice", forKey: .kind)
        case .writeFile(let path, let contents):
            try c.encode("write-file", forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(contents, forKey: .contents)
        case .controlWrite(let path, let text, let undoText):
            try c.encode("control-write", forKey: .kind)
            try c.encode(path, forKey: .path)
            try c.encode(text, forKey: .text)
            try c.encode(undoText, forKey: .undoText)
        }
    }
}
