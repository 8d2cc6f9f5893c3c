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

// CreateScratch creates the on-demand table name with the store's key
// schema, waits until it is ACTIVE and returns a store on it.
func (s *Store) CreateScratch(ctx context.Context, name string) (engine.Store, error) {
	if err := s.checkScratchName(name); err != nil {
		return nil, fmt.Errorf("create scratch table: %w", err)
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	for i, k := range s.key {
		kt := types.KeyTypeHash
		if i == 1 {
			kt = types.KeyTypeRange
		}
		at, ok := s.keyTypes[k]
		if !ok {
			return nil, fmt.Errorf("create scratch table %s: type of key attribute %q unknown", name, k)
		}
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k), KeyType: kt})
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(k), AttributeType: at})
	}
	if _, err := s.api.CreateTable(ctx, in); err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, translate(err))
	}
	if err := s.waitActive(ctx, name); err != nil {
		return nil, fmt.Errorf("create scratch table %s: %w", name, err)
	}
	spec := s.spec
	spec.Table, spec.Key = name, s.key
	scratch := &Store{api: s.api, table: name, key: s.key, keyTypes: s.keyTypes, versionAttr: s.versionAttr,
		leaseTable: s.leaseTable, spec: spec, opts: s.opts}
	return scratch, nil
}

// DropScratch deletes the table name and waits until it is gone. It
// refuses the store's own table and the lease table.
func (s *Store) DropScratch(ctx context.Context, name string) error {
	if err := s.checkScratchName(name); err != nil {
		return fmt.Errorf("drop scratch table: %w", err)
	}
	_, err := s.api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("drop scratch table %s: %w", name, translate(err))
	}
	err = poll(ctx, func() (bool, error) {
		_, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if errors.As(err, &nf) {
			return true, nil
		}
		return false, translate(err)
	})
	if err != nil {
		return fmt.Errorf("drop scratch table %s: wait: %w", name, err)
	}
	return nil
}

func (s *Store) checkScratchName(name string) error {
	switch {
	case name == "":
		return errors.New("empty table name")
	case strings.EqualFold(name, s.table):
		return fmt.Errorf("%q is the migration's own table", name)
	case strings.EqualFold(name, s.leaseTable):
		return fmt.Errorf("%q is the lease table", name)
	}
	return nil
}

// waitActive waits until table is ACTIVE.
func (s *Store) waitActive(ctx context.Context, table string) error {
	return poll(ctx, func() (bool, error) {
		out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return false, nil // eventually consistent right after CreateTable
		}
		if err != nil {
			return false, translate(err)
		}
		return out.Table.TableStatus == types.TableStatusActive, nil
	})
}
