package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/postloadhooks/hooks/shared/delivery"
	"github.com/postloadhooks/hooks/shared/hook"
	"github.com/postloadhooks/hooks/shared/store"
)

// seeder writes a seed step's data into the run's table.
type seeder struct {
	db       *dynamodb.Client
	table    string
	store    *store.Store
	clientID int64
	receiver *receiver
	member   hook.Principal // set by the member seed
}

// apply writes s: member, hooks, deliveries, deleted hooks, hook sequence,
// in that order.
func (sd *seeder) apply(ctx context.Context, s seed) error {
	if m := s.Member; m != nil {
		if err := sd.putMember(ctx, *m); err != nil {
			return err
		}
		sd.member = hook.Principal{ClientID: sd.clientID, MemberID: m.MemberID}
	}
	for _, h := range s.Hooks {
		url := strings.ReplaceAll(h.URL, "{{receiver}}", sd.receiver.url())
		got, err := sd.store.CreateHook(ctx, sd.member, h.DestinationID, url, h.Secret)
		if err != nil {
			return fmt.Errorf("seed hook %d: %w", h.ID, err)
		}
		if got.ID != h.ID {
			return fmt.Errorf("seed hook: got id %d, want %d (seed the hooks in id order on a fresh account)", got.ID, h.ID)
		}
		sd.receiver.expectSecret(url, h.Secret)
	}
	for _, d := range s.Deliveries {
		if err := sd.failFirstAttempt(ctx, d); err != nil {
			return err
		}
	}
	for _, id := range s.DeleteHooks {
		if _, err := sd.store.DeleteHook(ctx, sd.member, id); err != nil {
			return fmt.Errorf("seed: delete hook %d: %w", id, err)
		}
	}
	if n := s.HookSequence; n != nil {
		_, err := sd.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(sd.table),
			Key:                       sd.key(clientPK(sd.clientID), "SEQ#HOOK"),
			UpdateExpression:          aws.String("SET #next = :n"),
			ExpressionAttributeNames:  map[string]string{"#next": "next"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(*n)},
		})
		if err != nil {
			return fmt.Errorf("seed hook sequence: %w", err)
		}
	}
	return nil
}

// putMember writes the member and token items as shared/store lays them out
// (the store only makes members with fresh random tokens): the token itself
// is never stored, only hook.HashToken of it.
func (sd *seeder) putMember(ctx context.Context, m seedMember) error {
	hash := hook.HashToken(m.Token)
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
	items := []map[string]types.AttributeValue{
		{
			"pk": str(clientPK(sd.clientID)), "sk": str("MEMBER#" + m.MemberID),
			"client_id": num(sd.clientID), "member_id": str(m.MemberID), "email": str(m.Email),
			"token_hash": str(hash), "created_at": str(now),
		},
		{
			"pk": str("TOKEN#" + hash), "sk": str("TOKEN"),
			"client_id": num(sd.clientID), "member_id": str(m.MemberID),
		},
	}
	for _, item := range items {
		if _, err := sd.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           aws.String(sd.table),
			Item:                item,
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}); err != nil {
			return fmt.Errorf("seed member: %w", err)
		}
	}
	return nil
}

// failFirstAttempt records attempt 1 of a (load, hook) pair as failed with
// HTTP 503, through the dispatcher's own store calls, so attempt 2 is due.
func (sd *seeder) failFirstAttempt(ctx context.Context, d seedDelivery) error {
	k := delivery.Key{ClientID: sd.clientID, LoadID: d.LoadID, HookID: d.HookID}
	c := delivery.NewClaim(k, 1)
	claimed, _, err := sd.store.ClaimAttempt(ctx, c, d.WebhookID, d.BodyDigest, time.Minute)
	if err != nil {
		return fmt.Errorf("seed delivery %s: %w", d.LoadID, err)
	}
	if !claimed {
		return fmt.Errorf("seed delivery %s: attempt 1 already claimed", d.LoadID)
	}
	a := delivery.Attempt{At: time.Now().UTC(), Outcome: delivery.OutcomeHTTPStatus, StatusCode: 503, LatencyMs: 12}
	if _, err := sd.store.RecordAttempt(ctx, c, a, delivery.StatusWaiting); err != nil {
		return fmt.Errorf("seed delivery %s: %w", d.LoadID, err)
	}
	return nil
}

func (sd *seeder) key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func clientPK(clientID int64) string { return "CLIENT#" + strconv.FormatInt(clientID, 10) }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
