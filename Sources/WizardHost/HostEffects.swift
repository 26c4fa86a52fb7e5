import Checks
import DoctorCore
import DoctorHost
import Foundation
import Netfilter
import Wizard

/// Carries out the cards' effects on the live host (or the namespace `--netns` entered). Every change goes
/// through `TemporaryChanges`, journaled before it is made.
public final class HostEffects: @unchecked Sendable {
    public let session: FixSession
    let source: HostSource
    let journalPath: String?
    /// Lines for the person (the journal's path) that the driver prints after the effect.
    public private(set) var notes: [String] = []
    public private(set) var changes: TemporaryChanges?
    /// Fixes the person ran (not the wizard's own temporary changes): kept at the end only if chosen.
    public private(set) var fixActions: [RemediationStep.Action] = []
    private var baseline: HostSnapshot?
    /// The trace and log listeners' receive buffer (`--listen-buffer`).
    public var listenBuffer = ReceiveBufferPolicy.standard

    /// `source` is the live host, already in the namespace `--netns` named.
    public init(source: HostSource, journalPath: String?) {
        self.source = source
        self.journalPath = journalPath
        session = FixSession(source: source, log: { _ in })
    }

    public func snapshot(sample: Double = 0, deep: Bool = false) -> HostSnapshot {
        let snap = source.takeSnapshot(now: WizardClock.now(), sample: sample, deep: deep)
        if baseline == nil { baseline = snap }
        return snap
    }

    func findings(_ ids: [String], on snap: HostSnapshot) -> [Finding] {
        CheckEngine.run(Catalog.all, on: snap).filter { ids.contains($0.id) }
    }

    /// The journal-backed change log, created (with its journal path) at the first change.
    func changeLog() throws(InputError) -> TemporaryChanges {
        if let changes { return changes }
        let snap = baseline ?? snapshot()
        try session.guardApply(snap)
        let path: String
        if let journalPath { path = journalPath } else { path = try session.defaultJournalPath(netns: snap.host.netns.inode.value, time: snap.takenAt) }
        let log = TemporaryChanges(session: session, snapshot: snap, journalPath: path)
        changes = log
        notes.append("Journal: \(path) (everything below is put back when the wizard ends; after a kill: ctdoctor fix --undo \(ShellQuote.quote(path)))")
        return log
    }

    /// Journals and makes `items`; nil when all were applied and verified, else why not.
    func make(_ items: [FixPlan.Item]) -> String? {
        do {
            let outcome = try changeLog().make(items)
            if let failure = outcome.failure {
                return failure + (outcome.rolledBack == true ? " (every change so far was put back)" : " (some changes could NOT be put back: see the journal)")
            }
            return nil
        } catch {
            return error.message
        }
    }

    public func takeNotes() -> [String] {
        defer { notes = [] }
        return notes
    }

    public func perform(_ effect: Effect) -> EffectResult {
        switch effect {
        case .runChecks(let ids): return .findings(findings(ids, on: snapshot()))
        case .applyFix(let items): return applyFix(items)
        case .locate(let destination): return locate(destination)
        case .trace(let plan): return TraceCollector(effects: self).run(plan)
        case .traceBackend:
            let sources = snapshot().ruleset.sources
            let counts = sources.map { "\($0.backend.rawValue) \($0.rules.value.map(String.init) ?? "?")" }.joined(separator: ", ")
            let names = HostRoot().read("/proc/net/ip_tables_names").value ?? ""
            let rawMissing = !names.split(separator: "\n").contains("raw")
            return LegacyTrace.onlyLegacy(sources) == true
                ? .backend(.iptablesLegacy, why: "only iptables-legacy rules (\(counts)): the trace uses -j TRACE and nfnetlink_log"
                    + (rawMissing ? ". NOTE: " + LegacyTrace.rawTableStays : ""))
                : .backend(.nftables, why: "rules: \(counts); the trace uses nf_tables tracing")
        case .listenInvalid(let plan): return InvalidCollector(effects: self).run(plan)
        case .sampleTable(let seconds): return sampleTable(seconds)
        case .inspectHelpers(let port, let proto): return inspectHelpers(port: port, proto: proto)
        case .eventsLiveTest: return EventsLiveTest().run()
        case .eventListeners:
            let setting = snapshot().sysctls.int("net.netfilter.nf_conntrack_events").value
            return .report(lines: EventListener.lines(eventListeners(), eventsSetting: setting), findings: [])
        case .sampleLists(let times): return sampleLists(times)
        }
    }

    func applyFix(_ proposed: [FixPlan.Item]) -> EffectResult {
        let items = proposed.map(Self.removingCreatedTables)
        let failure = make(items)
        if failure == nil { fixActions += items.map(\.step.action) }
        let after = findings(Array(Set(items.map(\.checkID))), on: snapshot())
        var recheck: [String: String] = [:]
        for f in after { recheck[f.id] = f.status.rawValue }
        return .fixed(FixResult(applied: failure == nil ? items.map { FixScript.line(for: $0.step) } : [], failure: failure, recheck: recheck))
    }

    /// `nft add table F T` is undone by nothing in a fix (the table may hold earlier fixes); the wizard promises the
    /// ruleset back as it was, so when the table does not exist yet, its undo deletes it.
    static func removingCreatedTables(_ item: FixPlan.Item) -> FixPlan.Item {
        guard case .command(let argv) = item.step.action, argv.count == 5, argv[0] == "nft", argv[1] == "add", argv[2] == "table",
              item.step.undo == [] else { return item }
        let exists = (try? SystemCommandRunner().run(["nft", "list", "table", argv[3], argv[4]], timeout: 10).get().exitStatus) == 0
        guard !exists else { return item }
        var changed = item
        changed.step.undo = ["nft", "delete", "table", argv[3], argv[4]]
        return changed
    }

    func locate(_ destination: String) -> EffectResult {
        guard Address.isValid(destination) else { return .failed("not an address: \(destination)") }
        switch SystemCommandRunner().run(["ip", "route", "get", destination], timeout: 5) {
        case .success(let r) where r.exitStatus == 0:
            let text = r.stdout.split(separator: "\n").first.map(String.init) ?? ""
            return .located(Route(local: text.hasPrefix("local "), reachable: true, text: Clean.line(text)))
        case .success(let r): return .located(Route(local: false, reachable: false, text: Clean.line(r.stderr.trimmingWhitespace())))
        case .failure(let f): return .failed(f.description)
        }
    }

    func sampleTable(_ seconds: Int) -> EffectResult {
        let snap = snapshot(sample: Double(max(1, seconds)), deep: true)
        var rendered: [String] = []
        if let summary = snap.tableSummary.value {
            rendered = TableReporter(palette: .plain).render(TopReport(snapshot: snap, summary: summary))
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        } else {
            rendered = ["the table could not be streamed (ctnetlink): the checks below use the counters only"]
        }
        let sample = snap.sample
        func counters(_ r: CounterReadings?) -> [String: UInt64]? { r.flatMap { $0.netlink.value?.counters ?? $0.procfs.value?.counters } }
        let first = counters(sample?.first), second = counters(sample?.second)
        let rises = first.flatMap { a in second.map { CounterDelta.deltas(from: a, to: $0) } } ?? [:]
        var timeouts: [String: Int] = [:]
        for key in TableEvidence.timeoutKeys { timeouts[key] = snap.sysctls.int("net.netfilter." + key).value }
        let evidence = TableEvidence(
            seconds: first != nil && second != nil ? sample?.seconds : nil, rises: rises,
            countBefore: sample?.first.table.value?.entries ?? sample?.first.sysctlCount.value,
            countAfter: sample?.second.table.value?.entries ?? sample?.second.sysctlCount.value,
            max: sample?.second.table.value?.max ?? snap.sysctl(.conntrackMax).value,
            summary: snap.tableSummary.value, timeouts: timeouts, rendered: rendered)
        return .table(evidence, findings: CheckEngine.run(Catalog.all, on: snap))
    }

    func inspectHelpers(port: UInt16, proto: FlowRequest.Proto) -> EffectResult {
        let snap = snapshot()
        var lines: [String] = []
        switch snap.ctnetlink.expectations {
        case .value(let facts): lines.append("expectations now: \(facts.count) (IPCTNL_MSG_EXP_GET dump)")
        case let other: lines.append("expectations: \(other.problem ?? "not read")")
        }
        if let max = snap.sysctlText(.expectMax).value { lines.append("\(SysctlKey.expectMax) = \(max)") }
        let control = ControlConnections.read(port: port, proto: proto)
        lines += control.lines
        return .report(lines: lines, findings: CheckEngine.run(Catalog.all, on: snap), causes: control.causes)
    }

    func sampleLists(_ times: Int) -> EffectResult {
        var samples: [ConntrackLists] = []
        var problems: [String] = []
        var snap = snapshot()
        for n in 1...max(1, min(times, 10)) {
            if n > 1 {
                if Signals.wait(milliseconds: 1000) { break }
                snap = snapshot()
            }
            switch snap.ctnetlink.lists {
            case .value(let l): samples.append(l)
            case let other: problems.append("sample \(n): \(other.problem ?? "not read")")
            }
        }
        let lines = ListSamples.lines(samples, kernel: snap.host.kernelVersion) + problems
            + EventListener.lines(eventListeners(), eventsSetting: nil)
        return .report(lines: lines, findings: CheckEngine.run(Catalog.all, on: snap))
    }
}

extension HostEffects {
    /// This namespace's conntrack-event subscribers, read through the bounded /proc reader the probes use.
    func eventListeners() -> Reading<[EventListener]> {
        HostRoot().read("/proc/net/netlink").map(EventListener.parse)
    }
}

enum WizardClock {
    static func now() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 32)
        let length = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
