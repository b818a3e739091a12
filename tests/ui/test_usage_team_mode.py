"""Issue 25 items 1 and 2 on PostgreSQL: the same window tests as test_usage_window.py, on a team's database (the
usage counts go through apikeys_count_usage(); a rename elsewhere is heard through LISTEN)."""

from __future__ import annotations

from tests.ui.test_team_mode import store, window_database  # noqa: F401  # fixtures, used by name: a team's database
from tests.ui.test_usage_window import (  # noqa: F401  # collected again here, on PostgreSQL
    test_details_follow_a_rename_elsewhere_and_new_use,
    test_double_click_on_a_row_opens_its_details_and_the_period_switch_changes_the_totals,
    test_enter_opens_the_keys_details_with_its_totals_as_text,
    test_the_unused_link_lists_the_keys_with_no_use_in_the_period,
    test_usage_view_lists_the_top_keys_in_order_and_a_link_opens_the_key,
    used,
)
