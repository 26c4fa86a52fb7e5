/// One kernel slab cache from /proc/slabinfo (readable by root only): what one conntrack entry costs.
public struct SlabCache: Codable, Sendable, Equatable {
    /// "nf_conntrack".
    public var name: String
    /// Bytes per object: the measured size of one entry, without its extensions (acct, timestamp, helper,
    /// labels), which are allocated separately.
    public var objectSize: Int
    public var activeObjects: Int
    public var totalObjects: Int

    public init(name: String, objectSize: Int, activeObjects: Int, totalObjects: Int) {
        self.name = name
        self.objectSize = objectSize
        self.activeObjects = activeObjects
        self.totalObjects = totalObjects
    }
}
