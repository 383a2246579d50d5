package signing_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/spore-run/spore/signing"
)

func ExampleSign() {
	// A module with one empty type section; any core module will do.
	module := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00}

	account, _ := signing.NewKey(signing.KindAccount)
	actor, _ := signing.NewKey(signing.KindActor)
	id, _ := actor.PublicKey()
	issuer, _ := account.PublicKey()

	signed, _, err := signing.Sign(module, signing.Claims{
		ID:       id,
		Name:     "counter",
		Revision: 1,
		Caps:     []string{"spore:keyvalue"},
		Expires:  time.Now().Add(24 * time.Hour),
	}, account)
	if err != nil {
		fmt.Println(err)
		return
	}

	claims, err := signing.Verify(signed, signing.VerifyOptions{TrustedIssuers: []string{issuer}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims.Name, claims.Revision, claims.HasCap("spore:keyvalue"), claims.ID == id)

	// Any change to the module outside the claims section breaks the hash.
	signed[10] = 0x7f
	_, err = signing.Verify(signed, signing.VerifyOptions{})
	fmt.Println(errors.Is(err, signing.ErrHashMismatch))
	// Output:
	// counter 1 true true
	// true
}
