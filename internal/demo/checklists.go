package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"fieldsvc/internal/checklist"
)

// templates are the checklists a service company starts with.
var templates = []struct {
	name       string
	kinds      []string
	assetTypes []string
	items      []checklist.Item
}{
	{"Холодильное оборудование: аварийный выезд", []string{"incident"}, []string{"refrigeration"}, []checklist.Item{
		{ID: "power_isolated", Type: checklist.YesNo, Label: "Оборудование обесточено перед работой", Required: true},
		{ID: "cabinet_temp", Type: checklist.Number, Label: "Температура в камере по прибытии", Required: true,
			Min: ptr(-40.0), Max: ptr(30.0), Unit: "°C"},
		{ID: "fault", Type: checklist.Choice, Label: "Причина неисправности", Required: true,
			Options: []string{"утечка хладагента", "компрессор", "вентилятор", "электрика", "другое"}},
		{ID: "parts", Type: checklist.MultiChoice, Label: "Заменённые узлы",
			Options: []string{"вентилятор", "пускатель", "термостат", "фильтр-осушитель"}},
		{ID: "photos", Type: checklist.Photo, Label: "Фото узла до и после", Required: true},
		{ID: "client_signature", Type: checklist.Signature, Label: "Подпись представителя клиента", Required: true},
	}},
	{"Лифт: осмотр после вызова", nil, []string{"elevator"}, []checklist.Item{
		{ID: "cabin_empty", Type: checklist.YesNo, Label: "Кабина пуста, пассажиры выведены", Required: true},
		{ID: "safety_circuit", Type: checklist.YesNo, Label: "Цепь безопасности проверена", Required: true},
		{ID: "notes", Type: checklist.Text, Label: "Замечания"},
		{ID: "photos", Type: checklist.Photo, Label: "Фото машинного помещения"},
	}},
}

func ptr[T any](v T) *T { return &v }

// writeChecklists adds the templates and gives the open tickets theirs, as filing does.
func writeChecklists(ctx context.Context, tx pgx.Tx, ds *dataset) error {
	for _, t := range templates {
		id := uuid.NewSHA1(uuid.NameSpaceURL, []byte("fieldsvc.demo.checklist/"+t.name))
		if _, err := tx.Exec(ctx, `INSERT INTO checklist_templates (id, name, ticket_kinds, asset_types)
			VALUES ($1, $2, coalesce($3, '{}'::text[]), coalesce($4, '{}'::text[])) ON CONFLICT DO NOTHING`,
			id, t.name, t.kinds, t.assetTypes); err != nil {
			return fmt.Errorf("demo: checklist template: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO checklist_template_versions (template_id, version, items)
			VALUES ($1, 1, $2) ON CONFLICT DO NOTHING`, id, t.items); err != nil {
			return fmt.Errorf("demo: checklist template: %w", err)
		}
	}
	var open []uuid.UUID
	for _, t := range ds.tickets {
		if t.status != "resolved" && t.status != "closed" && t.status != "cancelled" {
			open = append(open, t.id)
		}
	}
	return checklist.AttachMatching(ctx, tx, open)
}
