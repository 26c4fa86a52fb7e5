import DoctorCore
import Netfilter

/// One streamed pass over this namespace's conntrack table: GET_STATS, the dump folded into a summary as it
/// arrives, GET_STATS again. Used by `ctdoctor top` and by `check --deep`.
public enum TableScan {
    public static let source = SourcePath.tableDump

    /// `progress(entries so far, count before the dump)` is called every `progressEvery` entries.
    public static func run(
        netns: String? = nil, topK: Int = 10, establishedTimeout: Int? = nil, progressEvery: Int = 10_000,
        progress: ((Int, Int?) -> Void)? = nil
    ) -> Reading<TableSummary> {
        var result: Reading<TableSummary> = .failed("not run")
        CtnetlinkAccess.session(netns: netns, { socket, _ in
            let before: Int?
            do throws(NetlinkError) {
                before = Int(try socket.count().entries)
            } catch {
                result = CtnetlinkAccess.reading(error)
                return
            }
            var summarizer = TableSummarizer(
                topK: topK, establishedTimeout: establishedTimeout, nowNanoseconds: CtnetlinkAccess.realtimeNanoseconds())
            let started = CtnetlinkAccess.monotonicSeconds()
            var unparsable = 0
            var incomplete: String?
            do throws(NetlinkError) {
                unparsable = try socket.streamTable { entry in
                    summarizer.add(entry)
                    if let progress, summarizer.count % progressEvery == 0 { progress(summarizer.count, before) }
                }
            } catch where error.kind == .dumpInterrupted || error.kind == .overrun {
                incomplete = error.description
            } catch {
                result = CtnetlinkAccess.reading(error)
                return
            }
            let seconds = CtnetlinkAccess.monotonicSeconds() - started
            let after = try? socket.count().entries
            result = .value(summarizer.summary(
                countBefore: before, countAfter: after.map(Int.init), incomplete: incomplete, unparsable: unparsable,
                seconds: seconds))
        }, notOpened: { result = CtnetlinkAccess.reading($0) })
        return result
    }
}
