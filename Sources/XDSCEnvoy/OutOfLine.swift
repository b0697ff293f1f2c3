/// A group of fields that most values leave at their defaults.
protocol OutOfLineFields: Equatable, Sendable {
    /// Every field at its default.
    init()
}

/// Rare fields kept out of line (issue 13): one box shared by copies until one of them writes,
/// and no box at all while nothing was written, so a value that sets none of them pays one
/// pointer.
struct OutOfLine<Fields: OutOfLineFields>: Equatable, @unchecked Sendable {
    private final class Box {
        var value: Fields
        init(_ value: Fields) { self.value = value }
    }

    private var box: Box?

    init() {}

    /// The fields, nil while none was written.
    var stored: Fields? { box?.value }

    /// Writes the fields, copying the box first when it is shared; writing a default into no
    /// box keeps none.
    mutating func update(unlessDefault isDefault: Bool, _ change: (inout Fields) -> Void) {
        if box == nil {
            if isDefault { return }
            box = Box(Fields())
        } else if !isKnownUniquelyReferenced(&box!) {
            box = Box(box!.value)
        }
        change(&box!.value)
    }

    static func == (a: Self, b: Self) -> Bool {
        a.box === b.box || (a.box?.value ?? Fields()) == (b.box?.value ?? Fields())
    }
}
