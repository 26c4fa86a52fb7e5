import DoctorCore
import DoctorHost
import Foundation
import Netfilter
import Wizard

/// The scoped trace: listen first, journal and add the trace table, optionally generate the test connection,
/// collect for --duration or --packets (or until a signal), then read the rules' text and the flow's entries.
struct TraceCollector {
    let effects: HostEffects

    func run(_ plan: TracePlan) -> EffectResult {
        let listener: any TraceEventSource
        do {
            listener = plan.backend == .iptablesLegacy ? try LegacyTraceSource(effects.listenBuffer, ipv6: plan.request.isIPv6) : try NftTraceSource(effects.listenBuffer)
        } catch {
            return .failed("cannot listen for \(plan.backend == .iptablesLegacy ? "TRACE lines on nfnetlink_log group 0" : "nf_tables traces (NFNLGRP_NFTRACE)"): \(error)")
        }
        let conntrack = try? EventSocket()
        var notes: [String] = conntrack == nil ? ["conntrack events could not be subscribed to (ctnetlink): none shown"] : []
        if let failure = effects.make(plan.changes.map { FixPlan.Item(checkID: "wizard.trace", why: "trace the flow", step: $0) }) {
            return .failed(failure)
        }
        // Rule numbers in the legacy log count the TRACE rules just inserted: read the rules now.
        listener.prepare()
        let request = plan.request
        let generator = plan.generate ? TrafficGenerator.start(request, afterMilliseconds: 200) : nil
        let started = Date()
        let deadline = started.addingTimeInterval(Double(max(1, request.duration)))
        var records: [TraceRecord] = []
        var ids = Set<UInt32>()
        var overruns = 0, lost = 0, unknownLoss = false
        var events: [String] = []
        var generatedAt: Date?
        var lastNewID = started
        while Date() < deadline, ids.count < max(1, request.packets), Signals.pending == 0 {
            do {
                let batch = try listener.poll(timeoutMilliseconds: 100)
                overruns += batch.overruns
                if let n = batch.lost { lost += n } else if batch.overruns > 0 { unknownLoss = true }
                for record in batch.records {
                    records.append(record)
                    if ids.insert(record.id).inserted { lastNewID = Date() }
                }
            } catch {
                notes.append("trace listener: \(error)")
                break
            }
            if let conntrack { events += conntrack.drain(matching: request) }
            // With a generated connection, stop soon after it ended instead of waiting out the window, unless other
            // matching packets (the person's own test, real traffic) are still being traced.
            if let generator, generator.result != nil {
                if generatedAt == nil { generatedAt = Date() }
                if let at = generatedAt, Date().timeIntervalSince(at) > 0.5, Date().timeIntervalSince(lastNewID) > 0.5 { break }
            }
        }
        if let conntrack { events += conntrack.drain(matching: request) }
        let seconds = Date().timeIntervalSince(started)
        if overruns > 0 {
            let how = unknownLoss ? "how many events were lost is unknown: traces carry no sequence numbers" : "\(lost) message(s) lost"
            notes.append("the trace socket overran \(overruns) time(s) (\(how)); its buffer was enlarged to \(listener.receiveBufferBytes) bytes")
        }
        let entries = Self.entries(request)
        if entries == nil { notes.append("`conntrack` is not installed: the entry is shown from its events only") }
        return .traced(TraceResult(
            analysis: TraceAnalysis(events: records, rules: listener.ruleText()), events: records.count, lost: unknownLoss ? max(overruns, lost) : lost,
            seconds: seconds, generated: generator?.result, entries: entries ?? [], conntrackEvents: events, notes: notes))
    }

    /// `name` turns an interface index into its name (the collector caches it: if_indextoname opens a socket per call).
    static func record(_ event: Netfilter.TraceEvent, name: (UInt32) -> String? = interfaceName) -> TraceRecord? {
        guard let id = event.id, let table = event.table, let chain = event.chain else { return nil }
        let kind: TraceRecord.Kind
        switch event.kind {
        case .rule?: kind = .rule
        case .return?: kind = .return
        case .policy?: kind = .policy
        default: return nil
        }
        // A policy event carries the policy (NF_DROP 0, NF_ACCEPT 1) rather than a verdict.
        let verdict = event.verdict.map { String($0.description.split(separator: " ").first ?? "") }
            ?? event.policy.map { $0 == 0 ? "drop" : $0 == 1 ? "accept" : "verdict \($0)" }
        return TraceRecord(
            id: id, family: family(event.family), table: table, chain: chain, kind: kind, ruleHandle: event.ruleHandle,
            verdict: verdict, verdictChain: event.verdict?.chain,
            inInterface: event.inInterface.flatMap(name), outInterface: event.outInterface.flatMap(name),
            packet: PacketHeader.decode(network: event.networkHeader, transport: event.transportHeader.isEmpty ? nil : event.transportHeader))
    }

    static func family(_ nfproto: UInt8) -> String {
        switch nfproto {
        case 1: "inet"
        case 2: "ip"
        case 3: "arp"
        case 5: "netdev"
        case 7: "bridge"
        case 10: "ip6"
        default: "family\(nfproto)"
        }
    }

    static func interfaceName(_ index: UInt32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(index, &buffer) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func nft(_ argv: [String]) -> String {
        if case .success(let r) = SystemCommandRunner().run(argv, timeout: 10), r.exitStatus == 0 { return r.stdout }
        return ""
    }

    /// `conntrack -L` for the flow (both tuples, [UNREPLIED]); nil when the tool is missing.
    static func entries(_ request: FlowRequest) -> [String]? {
        var argv = ["conntrack", "-L", "-p", (request.proto ?? .tcp).rawValue]
        if let dst = request.destination { argv += ["--orig-dst", dst] }
        if let port = request.destinationPort, request.proto != .icmp { argv += ["--orig-port-dst", String(port)] }
        switch SystemCommandRunner().run(argv, timeout: 10) {
        case .success(let r): return r.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        case .failure: return nil
        }
    }
}

/// Where trace records come from: nf_tables trace events, or iptables-legacy TRACE lines on nfnetlink_log.
/// Listener sockets are ~Copyable; a class holds each so the collectors can keep them.
protocol TraceEventSource: AnyObject {
    /// Called once the trace rules are in place.
    func prepare()
    func poll(timeoutMilliseconds: Int) throws(NetlinkError) -> (records: [TraceRecord], overruns: Int, lost: Int?)
    var receiveBufferBytes: Int { get }
    /// The rules' text, to name what the packet hit.
    func ruleText() -> RuleText
}

final class NftTraceSource: TraceEventSource {
    var listener: TraceListener
    private var names: [UInt32: String?] = [:]
    init(_ buffer: ReceiveBufferPolicy) throws(NetlinkError) { listener = try TraceListener(receiveBuffer: buffer) }
    func prepare() {}
    func interface(_ index: UInt32) -> String? {
        if let known = names[index] { return known }
        let name = TraceCollector.interfaceName(index)
        names[index] = name
        return name
    }
    func poll(timeoutMilliseconds: Int) throws(NetlinkError) -> (records: [TraceRecord], overruns: Int, lost: Int?) {
        let batch = try listener.poll(timeoutMilliseconds: timeoutMilliseconds)
        let records = batch.messages.compactMap { TraceCollector.record($0, name: interface) }
        return (records, batch.overruns, batch.overruns > 0 ? batch.lost : 0)
    }
    var receiveBufferBytes: Int { listener.receiveBufferBytes }
    func ruleText() -> RuleText { RuleText.parse(TraceCollector.nft(["nft", "-a", "list", "ruleset"])) }
}

/// nfnetlink_log group 0 while it is the family's bound logger: x_tables' TRACE lines, with the packet's headers.
final class LegacyTraceSource: TraceEventSource {
    var listener: NflogListener
    var rules = LegacyRules()
    let save: [String]
    init(_ buffer: ReceiveBufferPolicy, ipv6: Bool = false) throws(NetlinkError) {
        listener = try NflogListener(group: 0, copyRange: 128, receiveBuffer: buffer)
        save = [ipv6 ? "ip6tables-legacy-save" : "iptables-legacy-save"]
    }
    func prepare() { rules = LegacyRules.parse(TraceCollector.nft(save)) }
    func poll(timeoutMilliseconds: Int) throws(NetlinkError) -> (records: [TraceRecord], overruns: Int, lost: Int?) {
        let batch = try listener.poll(timeoutMilliseconds: timeoutMilliseconds)
        let records = batch.messages.compactMap { LegacyTrace.record(prefix: $0.prefix, payload: $0.payload, rules: rules) }
        return (records, batch.overruns, batch.lost)
    }
    var receiveBufferBytes: Int { listener.receiveBufferBytes }
    func ruleText() -> RuleText { rules.ruleText }
}

final class EventSocket {
    var listener: ConntrackEventListener
    init() throws(NetlinkError) { listener = try ConntrackEventListener() }

    /// Events queued now whose original tuple is the flow's.
    func drain(matching request: FlowRequest) -> [String] {
        guard let batch = try? listener.poll(timeoutMilliseconds: 0) else { return [] }
        return batch.messages.compactMap { event in
            let e = event.entry
            guard request.destination.map({ e.destination.description == $0 }) ?? true,
                  request.destinationPort.map({ e.destinationPort == $0 }) ?? true else { return nil }
            return "[\(event.kind.rawValue.uppercased())] \(ConntrackEntry.protocolName(e.l4proto)) \(PacketHeader.endpoint(e.source.description, e.sourcePort)) → \(PacketHeader.endpoint(e.destination.description, e.destinationPort))"
        }
    }
}

/// The invalid flow's listener: nfnetlink_log group 0, where conntrack's INVALID lines go once nfnetlink_log is
/// the family's logger.
struct InvalidCollector {
    let effects: HostEffects

    func run(_ plan: InvalidPlan) -> EffectResult {
        let socket: NflogSocket
        do { socket = try NflogSocket(effects.listenBuffer) } catch { return .failed("cannot listen on nfnetlink_log group 0: \(error)") }
        let items = plan.changes.map { FixPlan.Item(checkID: "wizard.invalid", why: "log INVALID reasons", step: $0) }
        if let failure = effects.make(items) { return .failed(failure) }
        let request = plan.request
        let tracking = TrackingProbe.run().tracked
        let started = Date()
        let deadline = started.addingTimeInterval(Double(max(1, request.duration)))
        var messages: [InvalidMessage] = []
        var lost = 0, overruns = 0
        while Date() < deadline, messages.count < max(1, request.packets), Signals.pending == 0 {
            guard let batch = try? socket.listener.poll(timeoutMilliseconds: 100) else { break }
            lost += batch.lost ?? batch.overruns
            overruns += batch.overruns
            for packet in batch.messages where packet.prefix.hasPrefix("nf_ct_") {
                messages.append(InvalidMessage(prefix: packet.prefix, packet: PacketHeader.decode(network: packet.payload)))
            }
        }
        return .invalid(InvalidResult(messages: messages, lost: lost, seconds: Date().timeIntervalSince(started), tracking: tracking,
                                      enlargedBuffer: overruns > 0 ? socket.listener.receiveBufferBytes : nil))
    }
}

final class NflogSocket {
    var listener: NflogListener
    init(_ buffer: ReceiveBufferPolicy) throws(NetlinkError) { listener = try NflogListener(group: 0, copyRange: 128, receiveBuffer: buffer) }
}

/// events flow: subscribe, send one UDP datagram to 127.0.0.1, wait for its NEW event.
struct EventsLiveTest {
    func run() -> EffectResult {
        let socket: EventSocket
        do { socket = try EventSocket() } catch { return .report(lines: ["cannot subscribe to conntrack events: \(error)"], findings: []) }
        let port = UInt16.random(in: 20000...60000)
        let sent = TrafficGenerator.connect("127.0.0.1", port, tcp: false)
        let request = FlowRequest(proto: .udp, destination: "127.0.0.1", destinationPort: port)
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline, seen.isEmpty, Signals.pending == 0 {
            usleep(50_000)
            seen += socket.drain(matching: request)
        }
        let arrived = seen.contains { $0.hasPrefix("[NEW]") }
        let verdict: String
        if arrived {
            verdict = "the NEW event arrived: events are delivered in this namespace"
        } else {
            switch TrackingProbe.tracked(udpPort: port) {
            case true?: verdict = "no NEW event within 2 s, but the flow is in the table: events are not delivered (nf_conntrack_events = 0, or the entry was created before events were turned on)"
            case false?: verdict = "no NEW event within 2 s, and the flow is not in the table: " + InvalidResult.notTracking
            case nil: verdict = "no NEW event within 2 s: events are off (nf_conntrack_events=0), no rule in this namespace uses conntrack (then it tracks nothing), or the datagram never left (is lo up?)"
            }
        }
        return .report(lines: [sent] + seen + [verdict], findings: [], causes: arrived ? [] : [verdict])
    }
}
