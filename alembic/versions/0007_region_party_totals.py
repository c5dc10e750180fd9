"""region_party_totals; indexes for the entity card, branches and the register by basis and amount (issue 6, speed)

Written by hand after 0006's pattern (one derived table and five indexes; `tests/test_migrations.py` checks
them against the models). No data to move: `pipeline.aggregates.refresh` fills it on the next build (the bumped
`AGGREGATES_VERSION` makes the build refresh even when no input changed).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('region_party_totals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_kato', sa.String(length=2), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('bin', sa.String(length=12), nullable=True),
    sa.Column('entity_id', sa.String(length=80), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('engagements', sa.BigInteger(), nullable=False),
    sa.Column('amount_kzt', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('noncompetitive', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region_party_totals'))
    )
    op.create_index('ix_region_party_totals_region_role', 'region_party_totals',
                    ['region_kato', 'role', 'category', 'amount_kzt'], unique=False)
    op.create_index('ix_organizations_parent_bin', 'organizations', ['parent_bin'], unique=False)
    op.create_index('ix_engagements_provider_basis', 'engagements',
                    ['provider_id', 'legal_basis', 'signed_on', 'amount_kzt'], unique=False)
    op.create_index('ix_engagements_buyer_basis', 'engagements',
                    ['buyer_id', 'legal_basis', 'signed_on', 'amount_kzt'], unique=False)
    op.create_index('ix_engagements_basis_amount', 'engagements', ['legal_basis', 'amount_kzt', 'signed_on'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_engagements_basis_amount', table_name='engagements')
    op.drop_index('ix_engagements_buyer_basis', table_name='engagements')
    op.drop_index('ix_engagements_provider_basis', table_name='engagements')
    op.drop_index('ix_organizations_parent_bin', table_name='organizations')
    op.drop_index('ix_region_party_totals_region_role', table_name='region_party_totals')
    op.drop_table('region_party_totals')
