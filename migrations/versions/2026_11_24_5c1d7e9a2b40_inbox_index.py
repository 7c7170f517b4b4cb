"""inbox index: the listed ideas nobody on the team has acted on yet; users by role

Revision ID: 5c1d7e9a2b40
Revises: f35dd1d5b9f6
Create Date: 2026-11-24 17:05:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c1d7e9a2b40'
down_revision = 'f35dd1d5b9f6'
branch_labels = None
depends_on = None

# Partial: only the rows a list page shows (canonical, not hidden), as in forum.ideas.models.
LISTED = "merged_into_id IS NULL AND hidden_at IS NULL"


def upgrade():
    op.create_index("ix_ideas_inbox", "ideas", ["staff_acted_at"], unique=False,
                    sqlite_where=sa.text(LISTED), postgresql_where=sa.text(LISTED))
    op.create_index(op.f("ix_users_role"), "users", ["role"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_users_role"), table_name="users")
    op.drop_index("ix_ideas_inbox", table_name="ideas")
