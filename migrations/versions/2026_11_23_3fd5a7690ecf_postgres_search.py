"""PostgreSQL search: the search_documents table, its full-text and trigram indexes

Only on PostgreSQL (the models do not describe these objects; migrations/env.py leaves them
out of the comparison with the models). On SQLite nothing happens: search uses Whoosh there.

Revision ID: 3fd5a7690ecf
Revises: b30c227da1fe
Create Date: 2026-11-23 09:55:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '3fd5a7690ecf'
down_revision = "b30c227da1fe"
branch_labels = None
depends_on = None


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgres():
        return
    # pg_trgm ships with PostgreSQL (Debian: postgresql-contrib) and is a trusted extension:
    # the database's owner may create it without being a superuser.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table('search_documents',
    sa.Column('idea_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('board', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('title_folded', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('votes', sa.Integer(), nullable=False),
    sa.Column('merged', sa.Boolean(), nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('prose', postgresql.TSVECTOR(), nullable=False),
    sa.Column('words', postgresql.TSVECTOR(), nullable=False),
    sa.PrimaryKeyConstraint('idea_id', name=op.f('pk_search_documents')),
    )
    op.create_index('ix_search_documents_prose', 'search_documents', ['prose'],
                    postgresql_using='gin')
    op.create_index('ix_search_documents_words', 'search_documents', ['words'],
                    postgresql_using='gin')
    op.create_index('ix_search_documents_title_trgm', 'search_documents', ['title_folded'],
                    postgresql_using='gin', postgresql_ops={'title_folded': 'gin_trgm_ops'})
    # Other processes read "what changed since revision N" to keep their duplicate ranker.
    op.create_index('ix_search_documents_revision', 'search_documents', ['revision'])
    op.create_table('search_state',
    sa.Column('id', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('revision', sa.BigInteger(), nullable=False),
    sa.Column('removed_revision', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_state')),
    sa.CheckConstraint('id = 1', name=op.f('ck_search_state_one_row')),
    )
    op.execute("INSERT INTO search_state (id, revision, removed_revision) VALUES (1, 0, 0)")


def downgrade():
    if not _postgres():
        return
    op.drop_table('search_state')
    op.drop_index('ix_search_documents_revision', table_name='search_documents')
    op.drop_index('ix_search_documents_title_trgm', table_name='search_documents')
    op.drop_index('ix_search_documents_words', table_name='search_documents')
    op.drop_index('ix_search_documents_prose', table_name='search_documents')
    op.drop_table('search_documents')
    # pg_trgm stays: it may have been installed before us, and other schemas may use it.
