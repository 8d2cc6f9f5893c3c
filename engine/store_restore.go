package engine

import (
	"context"
	"time"
)

// NativeRestorer is implemented by stores with a server-side restore
// (DynamoDB: RestoreTableFromBackup, RestoreTableToPointInTime). It always
// restores into a new table: switching the application over is the
// operator's (the restore step prints the steps).
type NativeRestorer interface {
	RestoreToNewTable(ctx context.Context, req NativeRestoreRequest) (NativeRestoreInfo, error)
}

// NativeRestoreRequest names what to restore and where: BackupARN, or a
// point in time (Latest for the latest restorable time).
//
// Adopt says the journal holds an earlier attempt's request of this same
// restore (the step was interrupted after asking for it): a Target that
// already exists as a restore of the same source is that request's table,
// and the store waits for it instead of failing. Any other existing
// Target is refused, Adopt or not.
type NativeRestoreRequest struct {
	Target      string // the new table
	BackupARN   string
	PointInTime time.Time
	Latest      bool
	Adopt       bool
}

// NativeRestoreInfo describes the restored table.
type NativeRestoreInfo struct {
	Table  string `json:"table"`
	ARN    string `json:"arn"`
	Status string `json:"status"` // ACTIVE once the wait ends
}
