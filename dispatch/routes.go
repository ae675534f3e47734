package dispatch

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"fieldsvc/internal/apperr"
	"fieldsvc/internal/auth"
	"fieldsvc/internal/ticket"
	"fieldsvc/internal/web"
)

// Routes registers the dispatcher API and the engineers' location endpoint on api.
func (s *Service) Routes(api fiber.Router, authn fiber.Handler) {
	watch := auth.Require(auth.Dispatcher, auth.Admin, auth.Manager)
	steer := auth.Require(auth.Dispatcher, auth.Admin)

	api.Get("/tickets/:id/candidates", authn, watch, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		cands, err := s.Candidates(c.UserContext(), id)
		return fiber.Map{"ticket_id": id, "candidates": cands}, err
	}))
	api.Post("/tickets/:id/dispatch", authn, steer, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		p, err := auth.FromContext(c.UserContext())
		if err != nil {
			return nil, err
		}
		return s.AssignBest(c.UserContext(), p, id)
	}))
	api.Post("/dispatch/batch/preview", authn, watch, func(c *fiber.Ctx) error {
		var in struct {
			Limit int `json:"limit"`
		}
		if err := web.DecodeOptionalJSON(c, &in); err != nil {
			return err
		}
		if in.Limit < 0 || in.Limit > maxBatch {
			return apperr.Field("limit", "must be from 1 to 300 (or left out)")
		}
		plan, err := s.PreviewBatch(c.UserContext(), in.Limit)
		if err != nil {
			return err
		}
		return c.JSON(plan)
	})
	api.Post("/dispatch/batch/apply", authn, steer, func(c *fiber.Ctx) error {
		var in ApplyRequest
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		p, err := auth.FromContext(c.UserContext())
		if err != nil {
			return err
		}
		results, err := s.ApplyBatch(c.UserContext(), p, in)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"results": results})
	})

	api.Post("/engineers/me/location", authn, auth.Require(auth.Engineer), func(c *fiber.Ctx) error {
		var in LocationReport
		if err := web.DecodeJSON(c, &in); err != nil {
			return err
		}
		p, err := auth.FromContext(c.UserContext())
		if err != nil {
			return err
		}
		if err := s.ReportLocation(c.UserContext(), p, in); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	})
	api.Put("/dispatch/engineers/:id/availability", authn, steer, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		var in Availability
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		if in.Until != nil {
			utc := in.Until.UTC()
			in.Until = &utc
		}
		return in, s.SetAvailability(c.UserContext(), id, in)
	}))
	api.Get("/dispatch/engineers/:id/time-off", authn, watch, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		return s.ListTimeOff(c.UserContext(), id)
	}))
	api.Post("/dispatch/engineers/:id/time-off", authn, steer, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		var in NewTimeOff
		if err := web.DecodeJSON(c, &in); err != nil {
			return nil, err
		}
		p, err := auth.FromContext(c.UserContext())
		if err != nil {
			return nil, err
		}
		c.Status(fiber.StatusCreated)
		return s.AddTimeOff(c.UserContext(), p, id, in)
	}))
	api.Delete("/dispatch/engineers/:id/time-off/:off", authn, steer, web.ByID(func(c *fiber.Ctx, id uuid.UUID) (any, error) {
		off, err := uuid.Parse(c.Params("off"))
		if err != nil {
			return nil, apperr.New(apperr.NotFound, "time off not found")
		}
		return fiber.Map{"id": off}, s.CancelTimeOff(c.UserContext(), id, off)
	}))
}

// MapRoutes registers the dispatcher's map feed on api (the /api/v1 group):
//
//	GET /dispatch/map/tickets    ?bbox=minLng,minLat,maxLng,maxLat&status=new,assigned
//	GET /dispatch/map/engineers  ?bbox=…&status=available,busy,full,off
//
// Dispatchers, admins and managers may read it. Answers are application/geo+json,
// gzipped when the client accepts it, with a strong ETag; If-None-Match with the
// current ETag answers 304 without building anything.
func (s *Service) MapRoutes(api fiber.Router, authn fiber.Handler) {
	staff := auth.Require(auth.Dispatcher, auth.Admin, auth.Manager)
	api.Get("/dispatch/map/tickets", authn, staff, s.mapHandler(TicketLayer))
	api.Get("/dispatch/map/engineers", authn, staff, s.mapHandler(EngineerLayer))
}

func (s *Service) mapHandler(layer MapLayer) fiber.Handler {
	return func(c *fiber.Ctx) error {
		f, err := parseMapQuery(c, layer)
		if err != nil {
			return err
		}
		gz := acceptsGzip(c.Get(fiber.HeaderAcceptEncoding))
		inm := c.Get(fiber.HeaderIfNoneMatch)
		buf := mapBuffers.Get().(*[]byte)
		defer func() {
			if cap(*buf) <= maxPooledBuffer {
				mapBuffers.Put(buf)
			}
		}()
		res, err := s.MapFeed(c.UserContext(), layer, f, (*buf)[:0], func(tag string) bool { return etagMatches(inm, tag) })
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "private, no-cache")
		c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		c.Set(fiber.HeaderETag, etagOf(res.Tag, gz))
		if res.NotModified {
			return c.SendStatus(fiber.StatusNotModified)
		}
		*buf = res.Body[:0] // keep the grown buffer for the next request
		c.Set(fiber.HeaderContentType, "application/geo+json")
		if !gz {
			// SetBody copies: the pooled buffer goes back when the handler returns.
			c.Response().SetBody(res.Body)
			return nil
		}
		c.Set(fiber.HeaderContentEncoding, "gzip")
		if err := gzipTo(c.Response().BodyWriter(), res.Body); err != nil {
			// The problem document that follows is plain JSON, not this representation.
			c.Response().Header.Del(fiber.HeaderContentEncoding)
			c.Response().Header.Del(fiber.HeaderETag)
			c.Response().ResetBody()
			return err
		}
		return nil
	}
}

// parseMapQuery reads ?bbox= and ?status= (repeated or comma-separated).
func parseMapQuery(c *fiber.Ctx, layer MapLayer) (MapFilter, error) {
	var f MapFilter
	if n := len(c.Context().QueryArgs().PeekMulti("bbox")); n > 1 {
		return f, apperr.Field("bbox", "give one bbox")
	}
	bbox, err := ParseMapBBox(c.Query("bbox"))
	if err != nil {
		return f, err
	}
	allowed := ticket.Statuses
	if layer == EngineerLayer {
		allowed = EngineerMapStatuses
	}
	statuses, err := web.QueryList(c, "status", allowed)
	if err != nil {
		return f, err
	}
	return MapFilter{BBox: bbox, Statuses: statuses}, nil
}
