package web

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/page"
)

// Resource is what the admin API does with one kind of record: create, read, list,
// update (the whole record), and deactivate or reactivate it. Records are never deleted:
// tickets and history keep pointing at them.
type Resource[In, Out, Filter any] struct {
	Create    func(ctx context.Context, in In) (Out, error)
	Get       func(ctx context.Context, id uuid.UUID) (Out, error)
	List      func(ctx context.Context, f Filter, p page.Request) (page.Page[Out], error)
	Update    func(ctx context.Context, id uuid.UUID, in In) (Out, error)
	SetActive func(ctx context.Context, id uuid.UUID, active bool) (Out, error)
	// Filter reads the list filters from the query string.
	Filter func(c *fiber.Ctx) (Filter, error)
}

// Mount registers a resource's routes under path. read guards the GETs, write the rest.
func Mount[In, Out, Filter any](r fiber.Router, path string, read, write fiber.Handler, res Resource[In, Out, Filter]) {
	r.Get(path, read, func(c *fiber.Ctx) error {
		f, err := res.Filter(c)
		if err != nil {
			return err
		}
		p, err := ParsePage(c)
		if err != nil {
			return err
		}
		out, err := res.List(c.UserContext(), f, p)
		if err != nil {
			return err
		}
		return c.JSON(out)
	})
	r.Post(path, write, func(c *fiber.Ctx) error {
		var in In
		if err := DecodeJSON(c, &in); err != nil {
			return err
		}
		out, err := res.Create(c.UserContext(), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(out)
	})
	r.Get(path+"/:id", read, func(c *fiber.Ctx) error {
		return withID(c, func(id uuid.UUID) (Out, error) { return res.Get(c.UserContext(), id) })
	})
	r.Put(path+"/:id", write, func(c *fiber.Ctx) error {
		return withID(c, func(id uuid.UUID) (Out, error) {
			var in In
			if err := DecodeJSON(c, &in); err != nil {
				var zero Out
				return zero, err
			}
			return res.Update(c.UserContext(), id, in)
		})
	})
	for action, active := range map[string]bool{"/activate": true, "/deactivate": false} {
		r.Post(path+"/:id"+action, write, func(c *fiber.Ctx) error {
			return withID(c, func(id uuid.UUID) (Out, error) { return res.SetActive(c.UserContext(), id, active) })
		})
	}
}

func withID[Out any](c *fiber.Ctx, fn func(uuid.UUID) (Out, error)) error {
	id, err := PathID(c)
	if err != nil {
		return err
	}
	out, err := fn(id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// ByID adapts a handler of one record, named by the :id path parameter, to Fiber: it
// answers the result as JSON, with the status the handler set (200 by default).
func ByID(fn func(c *fiber.Ctx, id uuid.UUID) (any, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return withID(c, func(id uuid.UUID) (any, error) { return fn(c, id) })
	}
}
