import Testing
@testable import DoctorCore

/// One and two decimals for the text and `top` outputs: the sign kept below one, and values no Int holds at that
/// scale (only a hostile snapshot has them) printed as they are instead of trapping.
@Suite struct FixedDecimalTests {
    @Test func decimals() {
        #expect(String(format1: 12.34) == "12.3")
        #expect(String(format1: -0.5) == "-0.5")
        #expect(String(format2: 0.015) == "0.02")
        #expect(String(format2: -0.05) == "-0.05")
        #expect(String(format2: 3) == "3.00")
    }

    @Test func valuesBeyondAnIntArePrintedAsTheyAre() {
        #expect(String(format1: .nan) == "nan")
        #expect(String(format2: .infinity) == "inf")
        #expect(String(format2: 1e300) == "1e+300")
        #expect(String(format1: -9.3e18) == "-9.3e+18")
    }
}
