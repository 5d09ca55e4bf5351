Feature: Out-of-stock rules
  In order not to sell what I do not have
  As a store owner
  I want sales to stop at zero stock and start again when stock comes back

  @api
  Scenario: A product with no stock cannot be bought
    Given I currently have no green jackets left in stock
    When a customer orders one green jacket
    Then the store should refuse with "green jacket (M) is out of stock"
    And I should have no green jackets in stock

  @api
  Scenario: Buying the last one sells the product out
    Given I currently have one green jacket left in stock
    When a customer orders one green jacket
    Then the order should be placed
    And the green jacket should be shown as "Out of stock"

  @api
  Scenario: An order for more than there is in stock is refused as a whole
    Given the store sells these products:
      | sku    | name  | colour | size | price | stock |
      | HAT-GR | hat   | grey   |      | 15.00 | 5     |
      | SCF-BL | scarf | blue   |      | 20.00 | 1     |
    When a customer orders these items:
      | sku    | quantity |
      | HAT-GR | 2        |
      | SCF-BL | 2        |
    Then the store should refuse with "only 1 blue scarf left, 2 wanted"
    And the stock of HAT-GR should be 5
    And the stock of SCF-BL should be 1

  @api
  Scenario Outline: The shop tells customers how many are left
    Given I currently have <stock> green jackets left in stock
    Then the green jacket should be shown as "<label>"

    Examples:
      | stock | label        |
      | 0     | Out of stock |
      | 1     | Only 1 left  |
      | 2     | Only 2 left  |
      | 7     | 7 in stock   |

  @browser
  Scenario: A sold-out product cannot be bought in the shop
    Given I currently have no green jackets left in stock
    When a customer looks at the green jacket in the shop
    Then the green jacket should be shown as "Out of stock"
    And the buy button should be disabled

  @browser
  Scenario: A return brings a sold-out product back
    Given a customer previously bought a green jacket from me
    And I currently have no green jackets left in stock
    When he returns the jacket for a refund
    Then the green jacket should be shown as "Only 1 left"
