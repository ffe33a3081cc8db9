// The "Works with" chips: opening one shows its link shape and puts it in the field's placeholder.
const field = document.getElementById('url');
const chips = [...document.querySelectorAll('#chips details')];

for (const chip of chips) {
  chip.addEventListener('toggle', () => {
    if (!chip.open) return;
    for (const other of chips) if (other !== chip) other.open = false;
    if (chip.dataset.shape && field) field.placeholder = chip.dataset.shape;
  });
  chip.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !chip.open) return;
    chip.open = false;
    chip.querySelector('summary').focus();
  });
}
