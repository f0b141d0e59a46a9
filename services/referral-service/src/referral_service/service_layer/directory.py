from referral_service.domain.models import Office, Organisation
from referral_service.schemas import DirectoryImport
from referral_service.unit_of_work import ReferralUnitOfWork


async def load_directory(uow: ReferralUnitOfWork, document: DirectoryImport) -> tuple[int, int]:
    """Insert or update every record; loading the same document twice changes nothing."""
    for organisation in document.organisations:
        await uow.directory.upsert_organisation(Organisation.model_validate(organisation.model_dump()))
    for office in document.offices:
        await uow.directory.upsert_office(Office.model_validate(office.model_dump()))
    return len(document.organisations), len(document.offices)
