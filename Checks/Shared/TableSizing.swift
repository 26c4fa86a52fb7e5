import DoctorCore

/// A bigger table worked out from this kernel's numbers: the limit doubled (to a power of two) and the buckets kept
/// at least equal to it, the kernel's own default since 5.15, so a full table still averages chains of two (every
/// entry is hashed twice). Memory comes from the measured slab object size, never from folklore.
struct TableSizing: Equatable {
    let max: Int
    let buckets: Int
    /// nf_conntrack slab object size, when /proc/slabinfo could be read.
    let entryBytes: Int?
    /// Why the entry size is unknown, when it is.
    let entryBytesUnknown: String?

    static let bucketBytes = 8
    /// The largest limit or bucket count proposed: both are ints in the kernel.
    static let largestPowerOfTwo = 1 << 30

    /// `fill` and `current` come bounded (SysctlKey ranges), so doubling them cannot overflow; a slab object size
    /// that no real cache has is treated as unknown.
    init(fill: TableFill, buckets current: Int?, slab: Reading<SlabCache>) {
        var target = 1024
        while target < 2 * Swift.max(fill.count, fill.max), target < Self.largestPowerOfTwo { target *= 2 }
        max = target
        buckets = Swift.max(current ?? 0, target)
        let size = slab.value?.objectSize
        entryBytes = size.flatMap { (1...65536).contains($0) ? $0 : nil }
        entryBytesUnknown = slab.value == nil ? slab.problem : entryBytes == nil ? "the slab object size \(size.map(String.init) ?? "?") is not one a cache can have" : nil
    }

    /// "a full table of 524288 entries needs 128 MiB (256 bytes per entry, the nf_conntrack slab object size
    /// in /proc/slabinfo; extensions such as acct and timestamps add to it) plus 4.0 MiB of hash buckets".
    var memoryText: String {
        let hash = "\(Wording.bytes(buckets * Self.bucketBytes)) of hash buckets (\(Self.bucketBytes) bytes each)"
        guard let entryBytes else {
            return "the per-entry memory is unknown (\(entryBytesUnknown ?? "no slab information"); "
                + "/proc/slabinfo is readable by root only), plus \(hash)"
        }
        return "a full table of \(max) entries needs \(Wording.bytes(max * entryBytes)) (\(entryBytes) bytes per "
            + "entry, the nf_conntrack slab object size in /proc/slabinfo; extensions such as accounting and "
            + "timestamps are allocated separately and add to it) plus \(hash)"
    }
}
