import XDSCEnvoy

extension RouteTableAnalysis {
    /// The analysis's view of an Envoy route match (the request space of the shadowing
    /// analysis), for the behavioural diff.
    public static func constraintOf(_ m: RouteMatch) -> RouteConstraint { constraint(m) }
}
