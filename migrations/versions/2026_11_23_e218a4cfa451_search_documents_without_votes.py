"""search documents without vote counts: "most votes" is ordered from ideas.vote_count

A vote no longer rewrites its idea's search row (see forum.search.base.IdeaDocument). Only on
PostgreSQL, like the table itself (3fd5a7690ecf).

Revision ID: e218a4cfa451
Revises: 81d75814218a
Create Date: 2026-11-23 11:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e218a4cfa451'
down_revision = '81d75814218a'
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _postgres():
        op.drop_column('search_documents', 'votes')


def downgrade():
    if _postgres():
        # The older code writes the count with every document; `flask forum reindex` refills it.
        op.add_column('search_documents', sa.Column('votes', sa.Integer(), nullable=False,
                                                    server_default='0'))
