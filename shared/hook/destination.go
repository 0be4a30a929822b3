package hook

import (
	"fmt"
	"regexp"
)

// MaxDestinations bounds an account's list of destinations.
const MaxDestinations = 100

// destinationTypePattern is a destination type: one lower-case word, as the
// data pipeline names them ("s3", "snowflake", "bigquery").
var destinationTypePattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,31}$`)

// CheckDestinations validates an account's list of destinations: at most
// MaxDestinations, each id positive and unique, each type a lower-case word.
// The error is a *ValidationError whose message names the first problem.
func CheckDestinations(ds []Destination) error {
	if len(ds) > MaxDestinations {
		return &ValidationError{Field: "destinations", Message: fmt.Sprintf("destinations may hold at most %d destinations", MaxDestinations)}
	}
	seen := make(map[int64]bool, len(ds))
	for i, d := range ds {
		if d.ID <= 0 {
			return &ValidationError{Field: "destinations", Message: fmt.Sprintf("destinations[%d].id must be a positive integer", i)}
		}
		if seen[d.ID] {
			return &ValidationError{Field: "destinations", Message: fmt.Sprintf("destinations[%d].id repeats an earlier destination", i)}
		}
		seen[d.ID] = true
		if !destinationTypePattern.MatchString(d.Type) {
			return &ValidationError{Field: "destinations", Message: fmt.Sprintf("destinations[%d].type must be a lower-case word such as s3 or snowflake", i)}
		}
	}
	return nil
}

// RemovedDestinations returns the ids of old that are not in updated.
func RemovedDestinations(old, updated []Destination) []int64 {
	keep := make(map[int64]bool, len(updated))
	for _, d := range updated {
		keep[d.ID] = true
	}
	var gone []int64
	for _, d := range old {
		if !keep[d.ID] {
			gone = append(gone, d.ID)
		}
	}
	return gone
}
