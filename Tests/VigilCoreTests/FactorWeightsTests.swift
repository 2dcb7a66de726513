import Testing
import VigilCore

@Suite struct FactorWeightsTests {
    @Test("O counts the permits valid at the time with the §4.3 weights, capped at 30")
    func operations() {
        let w = FactorWeights()
        let permits = [
            WorkPermit(kind: "hot_work_special", start: 100, end: 200), WorkPermit(kind: "confined_space", start: 150, end: 300),
            WorkPermit(kind: "lifting", start: 0, end: 1_000), WorkPermit(kind: "hot_work_1", start: 250, end: 260),
        ]
        #expect(w.operations(permits, at: 50) == 0)
        #expect(w.operations(permits, at: 120) == 15)
        #expect(w.operations(permits, at: 160) == 23)
        #expect(w.operations(permits, at: 200) == 8)  // end is exclusive
        #expect(w.operations(permits, at: 255) == 16)
        let many = (0..<5).map { _ in WorkPermit(kind: "hot_work_special", start: 0, end: 10) }
        #expect(w.operations(many, at: 5) == 30)
    }

    @Test("H: +20 per open major hazard, +3 per overdue general one, capped at 30; an overdue major one is flagged")
    func hazards() {
        let w = FactorWeights()
        let hs = [
            HiddenHazard(major: false, open: true, deadline: 100), HiddenHazard(major: false, open: true, deadline: nil),
            HiddenHazard(major: true, open: true, deadline: 500), HiddenHazard(major: true, open: false, deadline: 10),
        ]
        #expect(w.hazards(hs, at: 50) == (20, false))
        #expect(w.hazards(hs, at: 101) == (23, false))
        #expect(w.hazards(hs, at: 501) == (23, true))
        #expect(w.hazards(hs + [HiddenHazard(major: true, open: true, deadline: nil)], at: 0).score == 30)
    }
}
