"""board list indexes: one board's listed ideas in each list order

Revision ID: 81d75814218a
Revises: 3fd5a7690ecf
Create Date: 2026-11-23 06:15:44.075122

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '81d75814218a'
down_revision = '3fd5a7690ecf'
branch_labels = None
depends_on = None

# Partial: only the rows a list page shows (canonical, not hidden), as in forum.ideas.models.
LISTED = "merged_into_id IS NULL AND hidden_at IS NULL"
INDEXES = {
    "ix_ideas_board_top": "vote_count",
    "ix_ideas_board_trending": "trending_score",
    "ix_ideas_board_new": "created_at",
    "ix_ideas_board_activity": "last_activity_at",
}


def upgrade():
    for name, column in INDEXES.items():
        op.create_index(name, "ideas", ["board_id", column, "id"], unique=False,
                        sqlite_where=sa.text(LISTED), postgresql_where=sa.text(LISTED))


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="ideas")
