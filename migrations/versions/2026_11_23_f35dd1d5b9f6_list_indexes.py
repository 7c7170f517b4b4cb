"""list indexes: users.is_banned, and a board index that counts listed ideas alone

Revision ID: f35dd1d5b9f6
Revises: e218a4cfa451
Create Date: 2026-11-23 12:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f35dd1d5b9f6'
down_revision = 'e218a4cfa451'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f("ix_users_is_banned"), "users", ["is_banned"], unique=False)
    # Counting a board's listed ideas reads this index alone (forum.ideas.models.Idea); it
    # replaces the plain board index, whose lookups it serves too.
    op.create_index("ix_ideas_board_listed", "ideas",
                    ["board_id", "merged_into_id", "hidden_at", "author_id"], unique=False)
    op.drop_index("ix_ideas_board_id", table_name="ideas")


def downgrade():
    op.create_index("ix_ideas_board_id", "ideas", ["board_id"], unique=False)
    op.drop_index("ix_ideas_board_listed", table_name="ideas")
    op.drop_index(op.f("ix_users_is_banned"), table_name="users")
