package dynamo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lockstep-run/lockstep/engine"
)

// restoreStub stands in for DynamoDB's restore calls, which dynalite
// lacks: it records the requests and makes the new table ACTIVE after
// notFound DescribeTable calls that do not find it yet.
type restoreStub struct {
	fromBackup *dynamodb.RestoreTableFromBackupInput
	toPoint    *dynamodb.RestoreTableToPointInTimeInput
	notFound   int
	described  int
	err        error
}

func (s *restoreStub) RestoreTableFromBackup(_ context.Context, in *dynamodb.RestoreTableFromBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error) {
	s.fromBackup = in
	return &dynamodb.RestoreTableFromBackupOutput{TableDescription: &types.TableDescription{
		TableArn: aws.String("arn:aws:dynamodb:eu-west-1:1:table/" + *in.TargetTableName), TableStatus: types.TableStatusCreating}}, s.err
}

func (s *restoreStub) RestoreTableToPointInTime(_ context.Context, in *dynamodb.RestoreTableToPointInTimeInput, _ ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error) {
	s.toPoint = in
	return &dynamodb.RestoreTableToPointInTimeOutput{TableDescription: &types.TableDescription{TableStatus: types.TableStatusCreating}}, s.err
}

func (s *restoreStub) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	s.described++
	if s.described <= s.notFound {
		return nil, &types.ResourceNotFoundException{Message: aws.String("not yet")}
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, TableStatus: types.TableStatusActive}}, nil
}

func TestRestoreToNewTable(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		req     engine.NativeRestoreRequest
		stubErr error
		check   func(t *testing.T, s *restoreStub)
		wantErr string
	}{
		{name: "backup", req: engine.NativeRestoreRequest{Target: "users-restored", BackupARN: "arn:backup/1"}, check: func(t *testing.T, s *restoreStub) {
			if s.fromBackup == nil || *s.fromBackup.BackupArn != "arn:backup/1" || *s.fromBackup.TargetTableName != "users-restored" {
				t.Errorf("RestoreTableFromBackup(%+v), want arn:backup/1 into users-restored", s.fromBackup)
			}
		}},
		{name: "point in time", req: engine.NativeRestoreRequest{Target: "users-restored", PointInTime: at}, check: func(t *testing.T, s *restoreStub) {
			if s.toPoint == nil || *s.toPoint.SourceTableName != "users" || !s.toPoint.RestoreDateTime.Equal(at) || s.toPoint.UseLatestRestorableTime != nil {
				t.Errorf("RestoreTableToPointInTime(%+v), want users at %v", s.toPoint, at)
			}
		}},
		{name: "latest", req: engine.NativeRestoreRequest{Target: "users-restored", Latest: true}, check: func(t *testing.T, s *restoreStub) {
			if s.toPoint == nil || !aws.ToBool(s.toPoint.UseLatestRestorableTime) || s.toPoint.RestoreDateTime != nil {
				t.Errorf("RestoreTableToPointInTime(%+v), want the latest restorable time", s.toPoint)
			}
		}},
		{name: "over the live table", req: engine.NativeRestoreRequest{Target: "users", Latest: true}, wantErr: "must be a new table"},
		{name: "refused", req: engine.NativeRestoreRequest{Target: "x", BackupARN: "arn:b"}, stubErr: errors.New("TableAlreadyExistsException"), wantErr: "TableAlreadyExists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stub := &restoreStub{notFound: 1, err: tt.stubErr}
			info, err := restoreToNewTable(context.Background(), stub, "users", tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("restoreToNewTable() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("restoreToNewTable() error = %v", err)
			}
			if info.Status != string(types.TableStatusActive) || info.Table != tt.req.Target || stub.described < 2 {
				t.Errorf("restoreToNewTable() = %+v after %d describes, want %s ACTIVE after waiting", info, stub.described, tt.req.Target)
			}
			tt.check(t, stub)
		})
	}
}

// takenStub is DynamoDB when the restore's target table exists already:
// both restore calls fail with TableAlreadyExistsException and
// DescribeTable finds table, CREATING at first and then ACTIVE.
type takenStub struct {
	table     types.TableDescription
	described int
}

func (s *takenStub) RestoreTableFromBackup(context.Context, *dynamodb.RestoreTableFromBackupInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error) {
	return nil, &types.TableAlreadyExistsException{Message: aws.String("Table already exists: " + aws.ToString(s.table.TableName))}
}

func (s *takenStub) RestoreTableToPointInTime(context.Context, *dynamodb.RestoreTableToPointInTimeInput, ...func(*dynamodb.Options)) (*dynamodb.RestoreTableToPointInTimeOutput, error) {
	return nil, &types.TableAlreadyExistsException{Message: aws.String("Table already exists: " + aws.ToString(s.table.TableName))}
}

func (s *takenStub) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	s.described++
	t := s.table
	t.TableStatus = types.TableStatusCreating
	if s.described > 1 {
		t.TableStatus = types.TableStatusActive
	}
	return &dynamodb.DescribeTableOutput{Table: &t}, nil
}

// TestRestoreAdoptsOnlyItsOwnRequest: a restore step interrupted after it
// asked DynamoDB for the restore finds its target table on the next
// attempt. It waits for that table when the journal says it asked
// (Adopt) and DynamoDB says the table is a restore of the same source;
// any other existing table is refused, never written over or passed
// off as the restore.
func TestRestoreAdoptsOnlyItsOwnRequest(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	other := at.Add(time.Hour)
	fromBackup := func(arn string) *types.RestoreSummary {
		return &types.RestoreSummary{SourceBackupArn: aws.String(arn), RestoreDateTime: aws.Time(at), RestoreInProgress: aws.Bool(true)}
	}
	fromTable := func(name string, when time.Time) *types.RestoreSummary {
		return &types.RestoreSummary{SourceTableArn: aws.String("arn:aws:dynamodb:eu-west-1:1:table/" + name), RestoreDateTime: aws.Time(when), RestoreInProgress: aws.Bool(true)}
	}
	backup := engine.NativeRestoreRequest{Target: "users-restored", BackupARN: "arn:backup/1", Adopt: true}
	latest := engine.NativeRestoreRequest{Target: "users-restored", Latest: true, Adopt: true}
	point := engine.NativeRestoreRequest{Target: "users-restored", PointInTime: at, Adopt: true}
	notAdopt := backup
	notAdopt.Adopt = false
	tests := []struct {
		name    string
		req     engine.NativeRestoreRequest
		summary *types.RestoreSummary
		wantErr string
	}{
		{"its backup restore", backup, fromBackup("arn:backup/1"), ""},
		{"its latest point in time", latest, fromTable("users", other), ""},
		{"its point in time", point, fromTable("users", at), ""},
		{"not asked for before", notAdopt, fromBackup("arn:backup/1"), "already exists"},
		{"another backup", backup, fromBackup("arn:backup/2"), "not the restore this step asked for"},
		{"a table that is no restore", backup, nil, "not the restore this step asked for"},
		{"another source table", latest, fromTable("users2", at), "not the restore this step asked for"},
		{"another point in time", point, fromTable("users", other), "not the restore this step asked for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stub := &takenStub{table: types.TableDescription{TableName: aws.String(tt.req.Target),
				TableArn: aws.String("arn:aws:dynamodb:eu-west-1:1:table/" + tt.req.Target), RestoreSummary: tt.summary}}
			info, err := restoreToNewTable(context.Background(), stub, "users", tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "delete it or name another target_table") {
					t.Fatalf("restoreToNewTable() = %+v, %v; want an error saying %q and what to do", info, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("restoreToNewTable() error = %v", err)
			}
			if info.Status != string(types.TableStatusActive) || info.Table != tt.req.Target || stub.described < 2 {
				t.Errorf("restoreToNewTable() = %+v after %d describes, want %s ACTIVE after waiting for it", info, stub.described, tt.req.Target)
			}
		})
	}
}
