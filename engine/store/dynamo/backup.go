package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

// pollEvery and pollMax bound the waits for tables and backups.
const (
	pollEvery = 100 * time.Millisecond
	pollMax   = 15 * time.Minute
)

// CreateBackup takes an on-demand backup named name and waits until it is
// AVAILABLE. Endpoints without backups (dynalite) give an error wrapping
// engine.ErrUnsupported.
func (s *Store) CreateBackup(ctx context.Context, name string) (engine.BackupInfo, error) {
	out, err := s.api.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(s.table), BackupName: aws.String(name)})
	if err != nil {
		return engine.BackupInfo{}, fmt.Errorf("create backup of %s: %w", s.table, translate(err))
	}
	d := out.BackupDetails
	info := engine.BackupInfo{ARN: aws.ToString(d.BackupArn), Name: aws.ToString(d.BackupName), Status: string(d.BackupStatus),
		SizeBytes: aws.ToInt64(d.BackupSizeBytes), Created: aws.ToTime(d.BackupCreationDateTime)}
	err = poll(ctx, func() (bool, error) {
		out, err := s.api.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: d.BackupArn})
		if err != nil {
			return false, translate(err)
		}
		bd := out.BackupDescription.BackupDetails
		info.Status, info.SizeBytes = string(bd.BackupStatus), aws.ToInt64(bd.BackupSizeBytes)
		switch bd.BackupStatus {
		case types.BackupStatusAvailable:
			return true, nil
		case types.BackupStatusDeleted:
			return false, fmt.Errorf("backup %s was deleted", info.ARN)
		}
		return false, nil
	})
	if err != nil {
		return info, fmt.Errorf("create backup of %s: wait: %w", s.table, err)
	}
	return info, nil
}

// PITRStatus reports point-in-time recovery with
// DescribeContinuousBackups.
func (s *Store) PITRStatus(ctx context.Context) (engine.PITRStatus, error) {
	out, err := s.api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(s.table)})
	if err != nil {
		return engine.PITRStatus{}, fmt.Errorf("pitr status of %s: %w", s.table, translate(err))
	}
	var st engine.PITRStatus
	if d := out.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
		p := d.PointInTimeRecoveryDescription
		st.Enabled = p.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled
		st.EarliestRestore = aws.ToTime(p.EarliestRestorableDateTime)
		st.LatestRestorable = aws.ToTime(p.LatestRestorableDateTime)
	}
	return st, nil
}

// poll calls done until it reports true, backing off from pollEvery to
// two seconds, for at most pollMax.
func poll(ctx context.Context, done func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, pollMax)
	defer cancel()
	delay := pollEvery
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*3/2, 2*time.Second)
	}
}
