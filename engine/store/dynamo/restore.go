package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

var _ engine.NativeRestorer = (*Store)(nil)

// restoreAPI is the part of the DynamoDB client a native restore uses;
// dynalite lacks both restore calls, so its tests stub it.
type restoreAPI interface {
	RestoreTableFromBackup(context.Context, *dynamodb.RestoreTableFromBackupInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error)
	RestoreTableToPointInTime(context.Context, *dynamodb.RestoreTableToPointInTimeInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// RestoreToNewTable restores an on-demand backup or a point in time of
// the store's table into req.Target and waits until it is ACTIVE.
func (s *Store) RestoreToNewTable(ctx context.Context, req engine.NativeRestoreRequest) (engine.NativeRestoreInfo, error) {
	api, ok := s.api.(restoreAPI)
	if !ok {
		return engine.NativeRestoreInfo{}, fmt.Errorf("restore %s: %w", s.table, engine.ErrUnsupported)
	}
	return restoreToNewTable(ctx, api, s.table, req)
}

func restoreToNewTable(ctx context.Context, api restoreAPI, table string, req engine.NativeRestoreRequest) (engine.NativeRestoreInfo, error) {
	info := engine.NativeRestoreInfo{Table: req.Target}
	var desc *types.TableDescription
	switch {
	case req.Target == "" || req.Target == table:
		return info, fmt.Errorf("restore %s: the target must be a new table, not %q", table, req.Target)
	case req.BackupARN != "":
		out, err := api.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
			BackupArn: aws.String(req.BackupARN), TargetTableName: aws.String(req.Target)})
		if err != nil {
			if desc, err = existingRestore(ctx, api, table, req, err); err != nil {
				return info, fmt.Errorf("restore backup %s into %s: %w", req.BackupARN, req.Target, err)
			}
			break
		}
		desc = out.TableDescription
	default:
		in := &dynamodb.RestoreTableToPointInTimeInput{SourceTableName: aws.String(table), TargetTableName: aws.String(req.Target)}
		if req.Latest {
			in.UseLatestRestorableTime = aws.Bool(true)
		} else {
			in.RestoreDateTime = aws.Time(req.PointInTime)
		}
		out, err := api.RestoreTableToPointInTime(ctx, in)
		if err != nil {
			if desc, err = existingRestore(ctx, api, table, req, err); err != nil {
				return info, fmt.Errorf("restore %s to a point in time into %s: %w", table, req.Target, err)
			}
			break
		}
		desc = out.TableDescription
	}
	if desc != nil {
		info.ARN, info.Status = aws.ToString(desc.TableArn), string(desc.TableStatus)
	}
	err := poll(ctx, func() (bool, error) {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(req.Target)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false, nil // restores become visible after a while
		}
		if err != nil {
			return false, translate(err)
		}
		info.Status = string(out.Table.TableStatus)
		return out.Table.TableStatus == types.TableStatusActive, nil
	})
	if err != nil {
		return info, fmt.Errorf("restore into %s: wait until active: %w", req.Target, err)
	}
	return info, nil
}

// existingRestore handles a restore call's error err. When it says the
// target table exists and req.Adopt says this step asked for this very
// restore before it was interrupted, it returns the target's description
// if DynamoDB records it as a restore of the same source (backup ARN, or
// the same source table and point in time): the restore goes on, and
// the caller waits for it. Any other existing table is refused with what
// to do; any other error is returned translated.
func existingRestore(ctx context.Context, api restoreAPI, table string, req engine.NativeRestoreRequest, err error) (*types.TableDescription, error) {
	var exists *types.TableAlreadyExistsException
	if !errors.As(err, &exists) {
		return nil, translate(err)
	}
	refuse := fmt.Errorf("table %s already exists and a restore never writes over a table: "+
		"delete it or name another target_table (%w)", req.Target, err)
	if !req.Adopt {
		return nil, refuse
	}
	out, derr := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(req.Target)})
	if derr != nil {
		return nil, fmt.Errorf("describe the existing %s: %w", req.Target, translate(derr))
	}
	if !sameRestore(out.Table, table, req) {
		return nil, fmt.Errorf("%w; it is not the restore this step asked for before it was interrupted", refuse)
	}
	return out.Table, nil
}

// sameRestore says whether desc is a table restored from req's source:
// its backup, or table at req's point in time (any time for Latest).
func sameRestore(desc *types.TableDescription, table string, req engine.NativeRestoreRequest) bool {
	if desc == nil || desc.RestoreSummary == nil {
		return false
	}
	rs := desc.RestoreSummary
	if req.BackupARN != "" {
		return aws.ToString(rs.SourceBackupArn) == req.BackupARN
	}
	if !strings.HasSuffix(aws.ToString(rs.SourceTableArn), ":table/"+table) {
		return false
	}
	return req.Latest || (rs.RestoreDateTime != nil && rs.RestoreDateTime.Equal(req.PointInTime))
}
