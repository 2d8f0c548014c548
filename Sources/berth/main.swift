// Command-line entry point.
import BerthCore
print("berth \(berthVersion)")
