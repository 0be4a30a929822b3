package notify

import "strconv"

// MessageGroupID is the SQS MessageGroupId of every message about an
// account's loads: its client id in decimal ("116078"). Loaders set it on
// the load messages they put on post-load-notifications, and the service
// sets it on its own retry, deferral, alert and digest messages, so that
// SQS fair queues keep one account with a large backlog from delaying the
// messages of the others. On a standard queue it only groups messages for
// fairness: it orders nothing and de-duplicates nothing.
func MessageGroupID(clientID int64) string { return strconv.FormatInt(clientID, 10) }
