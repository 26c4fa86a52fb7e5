import DoctorCore
import Netfilter

/// A key a sketch can index with a cheap multiplicative hash instead of Swift's SipHash: the sketch is on the
/// per-entry path of a dump, and its table is small and bounded, so a collision costs a short probe, never more.
protocol SketchKey: Equatable {
    var sketchHash: UInt64 { get }
}

extension IPAddress: SketchKey {
    var sketchHash: UInt64 { (low &* 0x9E37_79B9_7F4A_7C15) ^ (high &* 0xC2B2_AE3D_27D4_EB4F) ^ (isIPv6 ? 1 : 0) }
}

extension UInt32: SketchKey {
    var sketchHash: UInt64 { UInt64(self) &* 0x9E37_79B9_7F4A_7C15 }
}

/// The most frequent keys of a stream in fixed memory (Metwally et al., "space-saving"): `capacity` counters; a new
/// key takes over the smallest counter and inherits its count as its possible overcount. A key seen more often
/// than total ÷ capacity is always among the counters.
struct SpaceSaving<Key: SketchKey> {
    let capacity: Int
    private var keys: [Key] = []
    private var counts: [Int] = []
    private var overcounts: [Int] = []
    /// Open addressing, linear probing: counter index + 1 per slot, 0 for an empty slot. Four slots per counter.
    private var slots: [Int32]
    private let mask: Int

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        var size = 8
        while size < capacity * 4 { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
        keys.reserveCapacity(capacity)
        counts.reserveCapacity(capacity)
        overcounts.reserveCapacity(capacity)
    }

    mutating func add(_ key: Key) {
        var slot = home(key)
        while slots[slot] != 0 {
            let i = Int(slots[slot]) - 1
            if keys[i] == key {
                counts[i] += 1
                return
            }
            slot = (slot + 1) & mask
        }
        if keys.count < capacity {
            keys.append(key)
            counts.append(1)
            overcounts.append(0)
            slots[slot] = Int32(keys.count)
            return
        }
        var smallest = 0
        for i in 1..<counts.count where counts[i] < counts[smallest] { smallest = i }
        remove(keys[smallest])
        keys[smallest] = key
        overcounts[smallest] = counts[smallest]
        counts[smallest] += 1
        insert(smallest)
    }

    /// The `k` largest counters, largest first.
    func top(_ k: Int) -> [(key: Key, count: Int, overcount: Int)] {
        counts.indices.sorted { counts[$0] != counts[$1] ? counts[$0] > counts[$1] : $0 < $1 }
            .prefix(k).map { (keys[$0], counts[$0], overcounts[$0]) }
    }

    private func home(_ key: Key) -> Int { Int(truncatingIfNeeded: key.sketchHash >> 32) & mask }

    private mutating func insert(_ index: Int) {
        var slot = home(keys[index])
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index + 1)
    }

    /// Deletes `key`'s slot and shifts later members of its probe run back (Knuth's algorithm R), so lookups never
    /// need tombstones.
    private mutating func remove(_ key: Key) {
        var hole = home(key)
        while keys[Int(slots[hole]) - 1] != key { hole = (hole + 1) & mask }
        slots[hole] = 0
        var next = (hole + 1) & mask
        while slots[next] != 0 {
            let wanted = home(keys[Int(slots[next]) - 1])
            // Move it into the hole unless its home lies cyclically in (hole, next].
            let stays = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if !stays {
                slots[hole] = slots[next]
                slots[next] = 0
                hole = next
            }
            next = (next + 1) & mask
        }
    }
}

/// Exact counts for the first `cap` distinct values; later values are counted together as "other".
struct CappedTally<Value: Hashable> {
    let cap: Int
    private(set) var counts: [Value: Int] = [:]
    private(set) var other = 0

    init(cap: Int) {
        self.cap = cap
    }

    mutating func add(_ value: Value) {
        if counts[value] != nil || counts.count < cap {
            counts[value, default: 0] += 1
        } else {
            other += 1
        }
    }

    func tally(_ name: (Value) -> String) -> Tally {
        Tally(counts: Dictionary(counts.map { (name($0.key), $0.value) }, uniquingKeysWith: +), other: other)
    }
}

/// Counts per bucket of fixed upper bounds (seconds, inclusive) plus an open last bucket.
struct BucketCounter {
    static let bounds = [10, 60, 300, 3600, 86400, 432_000]
    private(set) var counts = [Int](repeating: 0, count: bounds.count + 1)

    mutating func add(_ seconds: Int) {
        var i = 0
        while i < Self.bounds.count && seconds > Self.bounds[i] { i += 1 }
        counts[i] += 1
    }

    var histogram: Histogram {
        var buckets: [HistogramBucket] = []
        for (i, count) in counts.enumerated() {
            if i < Self.bounds.count {
                buckets.append(HistogramBucket(label: "≤ " + Self.label(Self.bounds[i]), upTo: Self.bounds[i], count: count))
            } else {
                buckets.append(HistogramBucket(label: "> " + Self.label(Self.bounds[i - 1]), upTo: nil, count: count))
            }
        }
        return Histogram(buckets: buckets)
    }

    static func label(_ seconds: Int) -> String {
        switch seconds {
        case 86400...: "\(seconds / 86400) day\(seconds >= 2 * 86400 ? "s" : "")"
        case 3600...: "\(seconds / 3600) h"
        case 60...: "\(seconds / 60) min"
        default: "\(seconds) s"
        }
    }
}
