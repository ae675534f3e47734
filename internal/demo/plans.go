package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// writePlans gives the demo's equipment the preventive maintenance a service contract
// would: refrigeration monthly, air conditioning each quarter, fire alarms half a year
// after their last check, each needing the matching skill. Like plans imported from
// elsewhere, they are due for generation at once: the server's generator makes their
// work orders at its first tick. Ids derive from the asset, so a rerun adds nothing.
func writePlans(ctx context.Context, tx pgx.Tx) error {
	today := time.Now().UTC()
	_, err := tx.Exec(ctx, `
		WITH kinds (asset_type, name, cron, interval_days, minutes, skill) AS (VALUES
			('refrigeration', 'ТО холодильного оборудования', '0 9 L * *', NULL::int, 90, 'refrigeration'),
			('hvac', 'Сезонное ТО кондиционера', '0 10 1 */3 *', NULL, 120, 'hvac'),
			('fire_alarm', 'Проверка пожарной сигнализации', NULL, 180, 60, 'fire_safety')),
		made AS (
			INSERT INTO pm_plans (id, asset_id, name, cron, interval_days, horizon_days, lead_hours, duration_minutes,
				priority, starts_on, next_due_at, generate_at)
			SELECT md5('pm-plan:' || a.id)::uuid, a.id, k.name, k.cron, k.interval_days, 30, 24, k.minutes, 'normal', $1::date,
				CASE WHEN k.cron IS NULL THEN $1::date + (abs(hashtext(a.id::text)) % 60) * interval '1 day' + interval '9 hours'
					ELSE $1::date - interval '1 day' END,
				$1::date - interval '1 day'
			FROM assets a JOIN kinds k ON k.asset_type = a.asset_type
			ON CONFLICT (id) DO NOTHING
			RETURNING id, asset_id)
		INSERT INTO pm_plan_skills (plan_id, skill_id)
		SELECT m.id, s.id FROM made m JOIN assets a ON a.id = m.asset_id JOIN kinds k ON k.asset_type = a.asset_type
			JOIN skills s ON s.code = k.skill`, today)
	if err != nil {
		return fmt.Errorf("demo: plans: %w", err)
	}
	return nil
}
