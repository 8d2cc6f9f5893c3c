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
