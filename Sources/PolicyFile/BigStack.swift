import Foundation

/// Runs work on a thread of its own with a 512 MiB stack (address space, touched only as far as it is used), and
/// waits for it: for recursive code fed outside input, such as Yams composing a policy.
enum BigStack {
    static let size = 512 * 1024 * 1024

    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = work()
            done.signal()
        }
        thread.stackSize = size
        thread.start()
        done.wait()
        return box.value!
    }

    private final class Box<T>: @unchecked Sendable {
        var value: T?
    }
}
