#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One piece of work on a POSIX thread of its own, joined once. A plain thread, not Foundation's or Dispatch's: a
/// check starts one per snapshot, and process start is a large share of a check's time.
final class BackgroundWork: @unchecked Sendable {
    private let body: @Sendable () -> any Sendable
    private var result: (any Sendable)?
    #if canImport(Glibc)
    private var thread: pthread_t?
    #else
    private var thread: pthread_t??
    #endif

    init(_ body: @escaping @Sendable () -> any Sendable) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t? = nil
        #endif
        let started = pthread_create(&thread, nil, { context in
            let work = Unmanaged<BackgroundWork>.fromOpaque(context!).takeRetainedValue()
            work.result = work.body()
            return nil
        }, context)
        if started == 0 {
            self.thread = thread
        } else {
            // No thread to be had (EAGAIN under a thread limit): the work runs here, as it did before it had one.
            Unmanaged<BackgroundWork>.fromOpaque(context).release()
            result = body()
        }
    }

    /// Waits for the work to end and hands back what it returned.
    func wait() -> any Sendable {
        if let thread {
            #if canImport(Glibc)
            pthread_join(thread, nil)
            #else
            pthread_join(thread!, nil)
            #endif
            self.thread = nil
        }
        return result!
    }
}
